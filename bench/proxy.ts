// npm run bench — the proxy against a floor: the stub upstream alone, a bare undici pass-through
// that parses and re-serialises the JSON body (what any body-reading proxy must pay), and the
// skillgate proxy with a realistic policy. Same process tree, same client, ratios printed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { startBroker, DEFAULT_POLICIES } from '../test/helpers/broker.ts';
import { startOidcIssuer } from '../test/helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY } from '../test/stub-upstream/server.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const body = JSON.stringify({ model: 'claude-sonnet-5', max_tokens: 512, messages: [{ role: 'user', content: 'Summarise the release notes of this repository in three bullet points.' }] });

const stub = await startStubUpstream();
const bare = await startBarePassThrough(stub.url);
const issuer = await startOidcIssuer();
process.env['BENCH_UPSTREAM_KEY'] = STUB_API_KEY;
const policies = [{ ...DEFAULT_POLICIES[0], grant: { scopes: ['messages:create'], models: ['claude-sonnet-5*'], max_tokens: 4096, tools: { custom: 'allow' }, ttl: '1h' } }];
const broker = await startBroker({ issuerUrl: issuer.url, policies, logLevel: 'warn', config: { upstream: { base_url: stub.url, credential: 'env:BENCH_UPSTREAM_KEY' } } });
const { body: minted } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
const token = String(minted['access_token']);

const targets = [
  { name: 'stub upstream (direct)', url: stub.url, key: STUB_API_KEY },
  { name: 'bare pass-through', url: bare.url, key: STUB_API_KEY },
  { name: 'skillgate proxy', url: broker.url, key: token },
];

const rows: { name: string; rps64: number; p50c1: number; p99c1: number }[] = [];
for (const t of targets) {
  await load(t, 64, 1); // warm-up
  const high = await load(t, 64, SECONDS);
  const one = await load(t, 1, SECONDS);
  rows.push({ name: t.name, rps64: high.rps, p50c1: one.p50, p99c1: one.p99 });
}
const bareRow = rows[1]!;
const sg = rows[2]!;
console.log(`\nnon-streaming POST /v1/messages, ${SECONDS}s per run (node ${process.version}, one process)\n`);
console.log('| target | req/s @64 conns | p50 ms @1 | p99 ms @1 |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.name} | ${r.rps64.toFixed(0)} | ${r.p50c1.toFixed(3)} | ${r.p99c1.toFixed(3)} |`);
console.log(`\nskillgate / bare req/s @64: ${(sg.rps64 / bareRow.rps64).toFixed(2)}× (target ≥ 0.6×)`);
console.log(`added p50 @1 vs bare: ${(sg.p50c1 - bareRow.p50c1).toFixed(3)} ms (target ≤ 0.3 ms)`);
console.log(`peak RSS of this process (stub + bare + broker + client): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

await broker.close();
await issuer.close();
await new Promise((r) => bare.server.close(r));
await stub.close();
process.exit(0);

async function load(t: { url: string; key: string }, connections: number, seconds: number) {
  const pool = new Pool(t.url, { connections, pipelining: 1 });
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        const res = await pool.request({ path: '/v1/messages', method: 'POST', body, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': t.key } });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`${t.url} answered ${res.statusCode}`);
        latencies.push(performance.now() - s);
      }
    }),
  );
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: latencies[Math.floor(latencies.length / 2)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

/** The floor: read the body, JSON.parse + JSON.stringify it, forward with undici, pipe the answer back. */
async function startBarePassThrough(upstream: string) {
  const pool = new Pool(upstream, { connections: 256 });
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const forwarded = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    const up = await pool.request({ path: req.url ?? '/', method: 'POST', body: forwarded, headers: { 'content-type': 'application/json', 'anthropic-version': String(req.headers['anthropic-version']), 'x-api-key': String(req.headers['x-api-key']) } });
    res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
    up.body.pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
