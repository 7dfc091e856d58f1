// npm run bench:profile -- [plain|sse] — where the broker spends its CPU under one bench load.
// Starts the stub and the broker (the `npm start` bundle, with --cpu-prof, or with BROKER_FLAGS instead) as `npm run bench` does,
// drives one load for BENCH_SECONDS, stops the broker cleanly so V8 writes the profile, and prints
// the functions with the most self time. The .cpuprofile stays in the printed directory (open it
// in Chrome DevTools or speedscope for the call tree).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { DEFAULT_POLICIES, testConfigYaml } from '../test/helpers/broker.ts';
import { startOidcIssuer } from '../test/helpers/oidc-issuer.ts';
import { startNodeFlags } from '../test/helpers/start-command.ts';
import { STUB_API_KEY } from '../test/stub-upstream/server.ts';
import { BENCH_GRANT, cpuMs, freePort, peakRssMB, load, mint, plainBody, startChild, streamBody, waitForHealth } from './load.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const kind = process.argv[2] ?? 'plain';
if (kind !== 'plain' && kind !== 'sse') throw new Error('usage: npm run bench:profile -- plain|sse');

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'skillgate-profile-'));
const stub = await startChild(['bench/servers/stub.ts'], children);
const issuer = await startOidcIssuer();
const port = await freePort();
const policies = [{ ...DEFAULT_POLICIES[0], grant: BENCH_GRANT }];
writeFileSync(join(dir, 'skillgate.yaml'), testConfigYaml({ issuerUrl: issuer.url, policies, config: { listen: { host: '127.0.0.1', port }, log: { level: 'warn' }, upstream: { base_url: stub.url, credential: 'env:BENCH_UPSTREAM_KEY' } } }, dir));
const broker = spawn(process.execPath, [...startNodeFlags(), ...(process.env['BROKER_FLAGS']?.split(' ').filter(Boolean) ?? ['--cpu-prof', `--cpu-prof-dir=${dir}`]), process.env['BROKER_BUNDLE'] ?? 'build/skillgate.mjs', 'serve', '--config', join(dir, 'skillgate.yaml')], { stdio: 'inherit', env: { ...process.env, BENCH_UPSTREAM_KEY: STUB_API_KEY } });
const url = `http://127.0.0.1:${port}`;
try {
  await waitForHealth(url);
  const token = await mint(url, await issuer.sign(issuer.githubClaims()));
  await load(url, token, 64, 1, plainBody); // warm-up: the JIT has compiled the hot path
  const cpuBefore = cpuMs(broker.pid!);
  const result = kind === 'plain' ? await load(url, token, 64, SECONDS, plainBody) : await load(url, token, 4, SECONDS, streamBody);
  const cpu = cpuMs(broker.pid!) - cpuBefore;
  const peakRss = peakRssMB(broker.pid!);
  console.log(kind === 'plain' ? `${result.rps.toFixed(0)} req/s @64, broker CPU ${((cpu * 1000) / (result.rps * SECONDS)).toFixed(0)} µs/req` : `${(result.bytes / SECONDS / 1e6).toFixed(1)} MB/s SSE @4, broker CPU ${(cpu / ((result.bytes / 1e6))).toFixed(1)} ms/MB`, `, peak RSS ${peakRss.toFixed(0)} MB`);
} finally {
  broker.kill('SIGTERM');
  await once(broker, 'exit');
  for (const c of children) c.kill('SIGTERM');
  await issuer.close();
}
if (process.env['BROKER_FLAGS'] === undefined) printTop(dir);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function, from the sample counts V8 keeps on each call-tree node. */
function printTop(from: string): void {
  const file = readdirSync(from).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no profile written in ${from}`);
  const { nodes } = JSON.parse(readFileSync(join(from, file), 'utf8')) as { nodes: ProfileNode[] };
  const self = new Map<string, number>();
  let total = 0;
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const where = n.callFrame.url === '' ? '' : ` ${n.callFrame.url.replace(/^.*\/(node_modules|build)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
    const key = `${n.callFrame.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + hits);
  }
  console.log(`\nself time, top 30 of ${total} samples (profile: ${join(from, file)})`);
  for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
}
