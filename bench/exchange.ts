// npm run bench:exchange — exchanges/s and latency of verify → match → mint → store with a warm
// JWKS cache, next to the floor any verifier pays (a bare jose jwtVerify against the same keys),
// and over HTTP. Everything runs in this one process, so the figures are for one core.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Pool } from 'undici';
import { exchangeToken } from '../broker/exchange/exchange.ts';
import { startBroker, TEST_AUDIENCE, TOKEN_EXCHANGE, ID_TOKEN_TYPE } from '../test/helpers/broker.ts';
import { startOidcIssuer } from '../test/helpers/oidc-issuer.ts';

const N = Number(process.env['BENCH_EXCHANGES'] ?? 5000);
const HTTP_CONCURRENCY = 16;

const issuer = await startOidcIssuer({ audience: TEST_AUDIENCE });
const dir = mkdtempSync(join(tmpdir(), 'skillgate-bench-'));
const broker = await startBroker({ issuerUrl: issuer.url, dir });

console.log(`signing ${3 * N} ID tokens…`);
const sign = () => issuer.sign(issuer.githubClaims());
const batch = async () => Promise.all(Array.from({ length: N }, sign));
const [forBaseline, forExchange, forHttp] = [await batch(), await batch(), await batch()];

// Warm the JWKS caches of both the baseline verifier and the broker.
const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
await jwtVerify(forBaseline[0]!, jwks, { issuer: issuer.url, audience: TEST_AUDIENCE, algorithms: ['RS256'] });
await broker.keys.warm(broker.config.issuers.find((i) => i.name === 'actions')!);

const baseline = await measure(forBaseline, (t) => jwtVerify(t, jwks, { issuer: issuer.url, audience: TEST_AUDIENCE, algorithms: ['RS256'] }));
const deps = { issuers: broker.config.issuers, policies: broker.config.policies, keys: broker.keys, store: broker.store, now: Date.now };
const exchange = await measure(forExchange, (t, i) => exchangeToken({ subjectToken: t, requestId: `bench-${i}` }, deps));

const pool = new Pool(broker.url, { connections: HTTP_CONCURRENCY });
const http = await measureConcurrent(forHttp, HTTP_CONCURRENCY, async (t) => {
  const res = await pool.request({
    path: '/v1/token',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token: t, subject_token_type: ID_TOKEN_TYPE }),
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`exchange answered ${res.statusCode}`);
});

console.log(`\nexchanges on one core, warm JWKS, ${N} tokens each (node ${process.version})\n`);
console.log('| run | ops/s | p50 ms | p99 ms | vs bare verify |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, r] of [
  ['bare jose jwtVerify (floor)', baseline],
  ['skillgate exchange in-process (verify+match+mint+store)', exchange],
  [`skillgate POST /v1/token over HTTP, ${HTTP_CONCURRENCY} in flight`, http],
] as const) {
  console.log(`| ${name} | ${r.opsPerSec.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${(r.opsPerSec / baseline.opsPerSec).toFixed(2)}× |`);
}
console.log(`\ntarget: ≥ 2000 exchanges/s → ${exchange.opsPerSec >= 2000 ? 'met' : 'NOT met'} in-process, ${http.opsPerSec >= 2000 ? 'met' : 'NOT met'} over HTTP`);

await pool.close();
await broker.close({ keepDir: true });
await issuer.close();
rmSync(dir, { recursive: true, force: true });

interface Result {
  opsPerSec: number;
  p50: number;
  p99: number;
}

async function measure(tokens: string[], op: (token: string, i: number) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  for (const [i, t] of tokens.entries()) {
    const s = performance.now();
    await op(t, i);
    latencies.push(performance.now() - s);
  }
  return summarise(latencies, performance.now() - start);
}

async function measureConcurrent(tokens: string[], concurrency: number, op: (token: string) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) {
        const t = tokens[next++]!;
        const s = performance.now();
        await op(t);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return summarise(latencies, performance.now() - start);
}

function summarise(latencies: number[], elapsedMs: number): Result {
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { opsPerSec: (latencies.length / elapsedMs) * 1000, p50: at(0.5), p99: at(0.99) };
}
