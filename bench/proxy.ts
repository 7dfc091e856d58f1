// npm run bench — the skillgate proxy against its floor. The stub upstream, a bare pass-through
// (parse + re-serialise the JSON body, the least any body-reading proxy pays) and the broker
// (`skillgate serve`, realistic policy) each run in their own process; this process drives them
// with the same client and prints req/s, latency, SSE MB/s, peak RSS and skillgate/bare ratios.
// Each measurement runs BENCH_ROUNDS times, bare and skillgate taking turns, and the median counts:
// this machine's speed drifts by ±10% over a minute, and turns make the drift hit both alike.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICIES, testConfigYaml } from '../test/helpers/broker.ts';
import { startOidcIssuer } from '../test/helpers/oidc-issuer.ts';
import { startNodeFlags } from '../test/helpers/start-command.ts';
import { STUB_API_KEY } from '../test/stub-upstream/server.ts';
import { BENCH_GRANT, cpuMs, freePort, load, type LoadResult, mint, peakRssMB, plainBody as plain, startChild, streamBody as longStream, waitForHealth } from './load.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'skillgate-bench-'));
try {
  const stub = await startChild(['bench/servers/stub.ts'], children);
  const bare = await startChild(['bench/servers/bare-proxy.ts', stub.url], children);
  const issuer = await startOidcIssuer();
  const port = await freePort();
  const policies = [{ ...DEFAULT_POLICIES[0], grant: BENCH_GRANT }];
  const config = testConfigYaml({ issuerUrl: issuer.url, policies, config: { listen: { host: '127.0.0.1', port }, log: { level: 'warn' }, upstream: { base_url: stub.url, credential: 'env:BENCH_UPSTREAM_KEY' } } }, dir);
  writeFileSync(join(dir, 'skillgate.yaml'), config);
  const broker = await startBroker(join(dir, 'skillgate.yaml'), `http://127.0.0.1:${port}`);
  const token = await mint(broker.url, await issuer.sign(issuer.githubClaims()));

  const targets = [
    { name: 'bare pass-through', child: bare, key: STUB_API_KEY },
    { name: 'skillgate proxy', child: broker, key: token },
  ];
  for (const t of targets) await load(t.child.url, t.key, 64, 1, plain); // warm-up: the JIT has compiled the hot paths
  const runs = targets.map(() => ({ high: [] as LoadResult[], cpuUs: [] as number[], one: [] as LoadResult[], sse: [] as LoadResult[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) {
      const cpuBefore = cpuMs(t.child.proc.pid!);
      const high = await load(t.child.url, t.key, 64, SECONDS, plain);
      runs[i]!.cpuUs.push(((cpuMs(t.child.proc.pid!) - cpuBefore) * 1000) / (high.rps * SECONDS));
      runs[i]!.high.push(high);
    }
    for (const [i, t] of targets.entries()) runs[i]!.one.push(await load(t.child.url, t.key, 1, SECONDS, plain));
    for (const [i, t] of targets.entries()) runs[i]!.sse.push(await load(t.child.url, t.key, 4, SECONDS, longStream));
  }
  const rows = targets.map((t, i) => {
    const r = runs[i]!;
    return {
      name: t.name,
      rps: median(r.high.map((x) => x.rps)),
      cpuUs: median(r.cpuUs),
      p99at64: median(r.high.map((x) => x.p99)),
      p50: median(r.one.map((x) => x.p50)),
      p99: median(r.one.map((x) => x.p99)),
      sseMBs: median(r.sse.map((x) => x.bytes / SECONDS / 1e6)),
      rssMB: peakRssMB(t.child.proc.pid!),
    };
  });
  const [b, s] = rows as [(typeof rows)[0], (typeof rows)[0]];
  console.log(`\nPOST /v1/messages on ${process.version}, median of ${ROUNDS} alternating ${SECONDS}s runs, each server in its own process (2-core machine)\n`);
  console.log('| target | req/s @64 conns | CPU µs/req @64 | p99 ms @64 | p50 ms @1 | p99 ms @1 | SSE MB/s @4 | peak RSS MB |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.cpuUs.toFixed(0)} | ${r.p99at64.toFixed(2)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.sseMBs.toFixed(1)} | ${r.rssMB.toFixed(0)} |`);
  console.log(`\nskillgate/bare: req/s ${(s.rps / b.rps).toFixed(2)}× (target ≥ 0.6×), SSE ${(s.sseMBs / b.sseMBs).toFixed(2)}× (target ≥ 0.6×)`);
  const perRound = (pick: (r: (typeof runs)[0], k: number) => number) => Array.from({ length: ROUNDS }, (_, k) => (pick(runs[1]!, k) / pick(runs[0]!, k)).toFixed(2)).join(', ');
  console.log(`round by round: req/s ${perRound((r, k) => r.high[k]!.rps)}; SSE ${perRound((r, k) => r.sse[k]!.bytes)}`);
  console.log(`added p50 @1: ${(s.p50 - b.p50).toFixed(3)} ms (target ≤ 0.3 ms); broker peak RSS ${s.rssMB.toFixed(0)} MB (target ≤ 200 MB)`);
  await issuer.close();
} finally {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}


async function startBroker(configPath: string, url: string): Promise<{ url: string; proc: ChildProcess }> {
  // The broker runs as `npm start` runs it: the esbuild bundle of broker/ (no TypeScript loader in the process), same node flags.
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  const proc = spawn(process.execPath, [...startNodeFlags(), ...(process.env['BROKER_FLAGS']?.split(' ').filter(Boolean) ?? []), 'build/skillgate.mjs', 'serve', '--config', configPath], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, BENCH_UPSTREAM_KEY: STUB_API_KEY } });
  children.push(proc);
  await waitForHealth(url);
  return { url, proc };
}
