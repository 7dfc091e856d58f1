// What the proxy benchmarks share: the request bodies, the bench policy grant, a closed-loop load
// generator, and starting children and tokens.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { ID_TOKEN_TYPE, TOKEN_EXCHANGE } from '../test/helpers/broker.ts';
export { freePort } from '../test/helpers/free-port.ts';

const messageBody = (content: string, stream = false) => JSON.stringify({ model: 'claude-sonnet-5', max_tokens: 1024, stream, messages: [{ role: 'user', content }] });
/** A short non-streaming call. */
export const plainBody = messageBody('Summarise the release notes of this repository in three bullet points.');
/** A streamed reply of 2000 text deltas of ~512 characters (the stub's `long-stream-N`). */
export const streamBody = messageBody('long-stream-2000', true);

/** A realistic grant: two model families, a max_tokens bound, tool families. */
export const BENCH_GRANT = { scopes: ['messages:create', 'models:read'], models: ['claude-sonnet-5*', 'claude-haiku-*'], max_tokens: 4096, tools: { custom: 'allow', code_execution: 'allow', bash: 'deny' }, ttl: '1h' };

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  bytes: number;
}

/** `load` keeps `connections` POST /v1/messages in flight for `seconds` and measures each one. */
export async function load(url: string, key: string, connections: number, seconds: number, body: string): Promise<LoadResult> {
  const pool = new Pool(url, { connections });
  const latencies: number[] = [];
  let bytes = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const res = await pool.request({ path: '/v1/messages', method: 'POST', body, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key } });
        for await (const chunk of res.body) bytes += (chunk as Buffer).length;
        if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: latencies[Math.floor(latencies.length / 2)]!, p99: latencies[Math.floor(latencies.length * 0.99)]!, bytes };
}

/** `startChild` runs a bench server under tsx and waits for its `READY <url>` line. */
export async function startChild(args: string[], children: ChildProcess[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const m = /READY (\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { url, proc };
}

export async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error('broker did not start');
}

/** `mint` exchanges an ID token for a skillgate token. */
export async function mint(url: string, idToken: string): Promise<string> {
  const res = await fetch(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token: idToken, subject_token_type: ID_TOKEN_TYPE }) });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`exchange failed: ${JSON.stringify(body)}`);
  return body.access_token;
}


/** CPU time (user + system) a process has used so far, in ms, from /proc/PID/stat (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Linux keeps each process's peak resident set in /proc/PID/status (VmHWM), in MB here. */
export function peakRssMB(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}
