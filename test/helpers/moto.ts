import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.ts';

/** A request moto served, as its recorder wrote it down. */
export interface MotoRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

export interface Moto {
  /** `http://127.0.0.1:<port>`; stays the same across restart(). */
  readonly endpoint: string;
  /** Kills moto and waits for it to exit. Its in-memory state and its request log are lost. */
  stop(): Promise<void>;
  /** Starts a fresh moto (empty state) on the same port. */
  restart(): Promise<void>;
  /** Every request moto has served since startMoto() or the last stop(), from moto's own recorder. */
  requests(): MotoRequest[];
  /** How many requests called `target`, e.g. `secretsmanager.GetSecretValue`. */
  countCalls(target: string): number;
}

const READY_TIMEOUT_MS = 20_000;

// On Linux, PR_SET_PDEATHSIG makes the kernel kill moto when this test worker dies, even by
// SIGKILL, so a crashed or interrupted run leaves no moto_server behind. It survives the exec
// chain of the pyenv shim. The ppid check covers a worker that died before prctl ran.
const LINUX_LAUNCHER = [
  'import ctypes, os, signal, sys',
  'ctypes.CDLL(None).prctl(1, signal.SIGKILL)',
  'if os.getppid() != int(sys.argv[1]): sys.exit(1)',
  'os.execvp("moto_server", ["moto_server"] + sys.argv[2:])',
].join('\n');

/** `startMoto` runs `moto_server -H 127.0.0.1 -p <free port>` with its request recorder on. */
export async function startMoto(): Promise<Moto> {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-moto-'));
  const recording = join(dir, 'recording.jsonl');
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 1; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, recording);
    } catch (err) {
      // Another process may have taken the port between probing and binding: try another one.
      if (attempt === 3) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const requests = (): MotoRequest[] => {
    let text: string;
    try {
      text = readFileSync(recording, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as MotoRequest);
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      await kill(child);
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill(child);
      child = undefined;
      mkdirSync(dir, { recursive: true });
      child = await launch(port, recording);
    },
    requests,
    countCalls(target) {
      return requests().filter((r) => headerOf(r, 'x-amz-target') === target).length;
    },
  };
}

async function launch(port: number, recording: string): Promise<ChildProcess> {
  const args = ['-H', '127.0.0.1', '-p', String(port)];
  const env = { ...process.env, MOTO_ENABLE_RECORDING: 'true', MOTO_RECORDER_FILEPATH: recording };
  const child =
    process.platform === 'linux'
      ? spawn('python3', ['-c', LINUX_LAUNCHER, String(process.pid), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('moto_server', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Elsewhere the exit hook is the fallback: it covers a worker that ends normally without stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`moto_server exited (${String(code)}) before answering on port ${port}: ${stderr}`);
  });
  exited.catch(() => {}); // only the race below cares how moto ended
  try {
    await Promise.race([waitUntilAnswering(port), exited]);
  } catch (err) {
    await kill(child);
    throw err;
  }
  return child;
}

async function waitUntilAnswering(port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/moto-api/data.json`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`moto_server did not answer on port ${port} within ${READY_TIMEOUT_MS} ms`);
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}


function headerOf(request: MotoRequest, name: string): string | undefined {
  const entry = Object.entries(request.headers).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}
