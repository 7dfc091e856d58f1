// Bad-input corpus B.4 (reference/security.md): replay of one ID token, against real brokers over
// real HTTP sharing (or not) one SQLite store: twice, 50 times at once, across two replicas,
// across a restart and a kill -9, and while the store is locked by someone else.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ID_TOKEN_TYPE, startBroker, testConfigYaml, TOKEN_EXCHANGE, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { freePort } from '../helpers/free-port.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The result vocabulary of §B.0: the family fixes the status.
const STATUS = { invalid_token: 401, store_unavailable: 503 } as const;
const refusal = (error: keyof typeof STATUS, reason: string) => ({ status: STATUS[error], error, reason });
const REPLAYED = refusal('invalid_token', 'replayed');

interface Answer {
  status: number;
  body: Record<string, unknown>;
}
const outcome = ({ status, body }: Answer) => ({ status, error: body['error'], reason: body['reason'] });

let issuer: OidcIssuer;
/** Brokers and folders a test started; afterEach closes and removes them. */
const started: TestBroker[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((b) => b.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await issuer.close();
});

async function broker(dir?: string): Promise<TestBroker> {
  const b = await startBroker({ issuerUrl: issuer.url, ...(dir !== undefined && { dir }) });
  started.push(b);
  return b;
}
function sharedDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-replay-'));
  dirs.push(dir);
  return dir;
}
const freshToken = () => issuer.sign(issuer.githubClaims());
const jtiOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;

describe('B-53 same token twice', () => {
  it('second exchange → 401 replayed, and both attempts are audited', async () => {
    const b = await broker();
    const token = await freshToken();
    expect((await b.exchange(token)).status).toBe(200);
    expect(outcome(await b.exchange(token))).toEqual(REPLAYED);

    const { records } = await b.store.queryAudit({ type: 'token.exchange' });
    const events = records.filter((e) => (e.data?.['claims'] as Record<string, unknown> | undefined)?.['jti'] === jtiOf(token));
    expect(events.map((e) => [e.outcome, e.reason]).sort()).toEqual([
      ['denied', 'replayed'],
      ['granted', undefined],
    ]);
  });

  it('a different token of the same run (new jti) is not a replay', async () => {
    const b = await broker();
    expect((await b.exchange(await freshToken())).status).toBe(200);
    expect((await b.exchange(await freshToken())).status).toBe(200);
  });
});

describe('B-54 concurrent replay race', () => {
  it('50 parallel exchanges of one token → exactly one 200 and 49 × 401 replayed, one token stored', async () => {
    const b = await broker();
    const token = await freshToken();
    const before = (await b.store.listTokens()).length;
    const answers = await Promise.all(Array.from({ length: 50 }, () => b.exchange(token)));
    const granted = answers.filter((a) => a.status === 200);
    expect(granted).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 200).map(outcome)).toEqual(Array.from({ length: 49 }, () => REPLAYED));
    expect((await b.store.listTokens()).length - before).toBe(1);
  });
});

describe('B-55 replay across replicas sharing a store', () => {
  it('exchanged at replica A → 401 replayed at replica B', async () => {
    const dir = sharedDir();
    const [a, b] = [await broker(dir), await broker(dir)];
    const token = await freshToken();
    expect((await a.exchange(token)).status).toBe(200);
    expect(outcome(await b.exchange(token))).toEqual(REPLAYED);
  });

  it('40 parallel exchanges split over two replicas → exactly one 200', async () => {
    const dir = sharedDir();
    const replicas = [await broker(dir), await broker(dir)];
    const token = await freshToken();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => replicas[i % 2]!.exchange(token)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 200).map(outcome)).toEqual(Array.from({ length: 39 }, () => REPLAYED));
  });

  it('control: replicas with separate stores each accept it once, so the refusal above comes from the shared store', async () => {
    const [a, b] = [await broker(), await broker()];
    const token = await freshToken();
    expect((await a.exchange(token)).status).toBe(200);
    expect((await b.exchange(token)).status).toBe(200);
  });
});

describe('B-57 replay after a restart', () => {
  it('graceful restart on the same folder → 401 replayed', async () => {
    const dir = sharedDir();
    const token = await freshToken();
    const first = await startBroker({ issuerUrl: issuer.url, dir });
    try {
      expect((await first.exchange(token)).status).toBe(200);
    } finally {
      await first.close({ keepDir: true });
    }
    const second = await broker(dir);
    expect(outcome(await second.exchange(token))).toEqual(REPLAYED);
  });

  it('kill -9 of a real `skillgate serve` right after the exchange → 401 replayed after restart', async () => {
    const dir = sharedDir();
    const config = join(dir, 'skillgate.yaml');
    writeFileSync(config, testConfigYaml({ issuerUrl: issuer.url }, dir));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'broker/cli.ts', 'serve', '--config', config, '--host', '127.0.0.1', '--port', String(port)], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitUntilUp(url);
      const token = await freshToken();
      const res = await fetch(`${url}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: ID_TOKEN_TYPE }),
      });
      expect(res.status).toBe(200);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const restarted = await broker(dir);
      expect(outcome(await restarted.exchange(token))).toEqual(REPLAYED);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('B-58 replay-store outage', () => {
  it('store locked by another writer → 503 store_unavailable, nothing minted or spent; released → the same token works', async () => {
    const b = await broker();
    expect((await b.exchange(await freshToken())).status).toBe(200); // keys warm, store healthy
    const token = await freshToken();
    const tokensBefore = (await b.store.listTokens()).length;

    const other = new Database(join(b.dir, 'skillgate.db'));
    try {
      other.exec('BEGIN EXCLUSIVE');
      // The broker waits its busy_timeout (2 s) for the lock, then fails closed.
      expect(outcome(await b.exchange(token))).toEqual(refusal('store_unavailable', 'store_unavailable'));
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect((await b.store.listTokens()).length).toBe(tokensBefore);
    // The refused attempt spent nothing: the same token is exchanged now, once.
    expect((await b.exchange(token)).status).toBe(200);
    expect(outcome(await b.exchange(token))).toEqual(REPLAYED);
  });
});

/** A port nobody listens on right now (for the child process, which cannot report port 0). */

async function waitUntilUp(url: string, deadline = Date.now() + 20_000): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`skillgate serve did not come up at ${url}`);
}
