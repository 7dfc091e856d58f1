// R-01 (reference/security.md §D): kill -9 under load. A real `skillgate serve` process proxies
// 16 concurrent loops of SDK calls (half of them streams) to the stub upstream and is killed with
// SIGKILL at a random moment, then restarted on the same store, several times. Invariants:
//   I-1 write-ahead: every request the upstream received has a committed `proxy.request` record;
//   I-2 no loss: every record committed before a crash is still there, byte for byte, afterwards;
//       the chain verifies and its sequence numbers have no gap;
//   orphans: every request left without an outcome by a crash gets exactly one `interrupted`
//       outcome (reason broker_restarted) when the broker starts again, and nothing else does.
// Prompts are unique per call, so the upstream's log joins the audit trail on the prompt text.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, ChainCheck, StoredAuditRecord } from '../../broker/audit/audit-record.ts';
import { openSqliteStore } from '../../broker/store/sqlite-store.ts';
import { ID_TOKEN_TYPE, testConfigYaml, TOKEN_EXCHANGE } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';
import { freePort } from '../helpers/free-port.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KILLS = 3;
const LOOPS = 16;
/** Upper bound on calls per loop per round; the kill ends every round long before. */
const MAX_CALLS_PER_LOOP = 5_000;
const UPSTREAM_KEY_ENV = 'SKILLGATE_TEST_CRASH_KEY';
const OPERATOR_ENV = 'SKILLGATE_TEST_CRASH_OPS';
const OPERATOR_TOKEN = `ops-${randomBytes(16).toString('hex')}`;

interface Row {
  seq: number;
  type: string;
  body: string;
  prev_hash: string;
  hash: string;
}

interface Serving {
  child: ChildProcess;
  url: string;
  /** The last lines the process wrote, for failure messages. */
  output: string[];
}

/** A store folder with its config file. */
interface Site {
  dir: string;
  dbPath: string;
  configPath: string;
}

let issuer: OidcIssuer;
let stub: StubUpstream;
let site: Site;
let dbPath: string;
let url: string;
let port: number;
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
  // Streams take a while (about 8 events × 20 ms), so some are always in flight when the kill lands.
  stub = await startStubUpstream({ eventDelayMs: 20 });
  site = newSite();
  dbPath = site.dbPath;
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  // Whatever happened, no broker process outlives the file.
  await Promise.all(children.map(killNow));
  await stub?.close();
  await issuer?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newSite(): Site {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-crash-'));
  dirs.push(dir);
  const configPath = join(dir, 'skillgate.yaml');
  const config = { upstream: { base_url: stub.url, credential: `env:${UPSTREAM_KEY_ENV}` }, operators: [{ name: 'ops', token: `env:${OPERATOR_ENV}` }], log: { level: 'warn' } };
  writeFileSync(configPath, testConfigYaml({ issuerUrl: issuer.url, config }, dir));
  return { dir, dbPath: join(dir, 'skillgate.db'), configPath };
}

describe('kill -9 under load', () => {
  it(`${KILLS} random SIGKILLs: write-ahead holds, nothing committed is lost, the chain verifies, orphans are closed as interrupted`, { timeout: 180_000 }, async () => {
    let token = '';
    /** Every row seen committed so far, by seq: must survive every later crash unchanged. */
    let committed = new Map<number, Row>();
    /** Records the running broker served through the audit API before it was killed. */
    const servedBeforeKill = new Map<number, string>();
    /** Requests a crash left without an outcome, waiting for the next start to close them. */
    let open: string[] = [];
    const everOrphaned = new Set<string>();
    const delays: number[] = [];

    for (let round = 0; round <= KILLS; round++) {
      const broker = await serve();
      await waitUntilReady(broker);

      // Starting closed exactly the previous crash's orphans, and wrote nothing else.
      const started = readRows();
      expectUnchanged(committed, started, `start ${round}`);
      const written = started.filter((r) => !committed.has(r.seq)).map(parse);
      expect(written.map((r) => [r.type, r.outcome, r.reason]), `start ${round}`).toEqual(open.map(() => ['proxy.outcome', 'interrupted', 'broker_restarted']));
      expect(written.map((r) => r.requestId).sort()).toEqual([...open].sort());
      committed = byseq(started);

      if (round === 0) token = await exchange();
      if (round === KILLS) break;

      // Load, then a kill at a random moment once calls are reaching upstream.
      const client = new Anthropic({ baseURL: url, apiKey: token, maxRetries: 0, timeout: 15_000 });
      const stop = { stopped: false };
      const upstreamBefore = stub.requests.length;
      const load = drive(client, round, stop);
      await until(() => stub.requests.length > upstreamBefore, 'no call reached upstream');
      const delay = randomInt(200, 1501);
      delays.push(delay);
      const read = sleep(delay / 2).then(() => readThroughApi(servedBeforeKill).catch(() => undefined));
      await sleep(delay);
      stop.stopped = true;
      await killNow(broker.child);
      const errorsBeforeKill = await load;
      await read;
      expect(errorsBeforeKill, `calls failed while the broker was up (delays ${delays.join(', ')} ms)`).toEqual([]);

      // What the crash left on disk: everything committed before, and every call upstream saw.
      const crashed = readRows();
      expectUnchanged(committed, crashed, `kill ${round + 1} after ${delay} ms`);
      expectUpstreamAudited(crashed, `kill ${round + 1} after ${delay} ms`);
      committed = byseq(crashed);
      open = orphans(crashed);
      open.forEach((id) => everOrphaned.add(id));
    }

    // The last start is running: the broker verifies its own trail, then stops cleanly.
    const verify = await fetch(`${url}/v1/audit/verify`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect((await verify.json()) as ChainCheck).toEqual({ ok: true, records: committed.size, head: committed.get(committed.size)?.hash });
    await stopGracefully(children.at(-1)!);

    const rows = readRows();
    expectUnchanged(committed, rows, 'after the last stop');
    expect(rows.map((r) => r.seq), 'sequence numbers have a gap').toEqual(rows.map((_, i) => i + 1));
    const store = openSqliteStore(dbPath);
    try {
      expect(await store.verifyAudit()).toEqual({ ok: true, records: rows.length, head: rows.at(-1)!.hash });
    } finally {
      await store.close();
    }
    const missing = [...servedBeforeKill].filter(([seq, hash]) => rows[seq - 1]?.hash !== hash);
    expect(missing, 'records the API served before a kill').toEqual([]);
    expect(servedBeforeKill.size).toBeGreaterThan(0);
    expectUpstreamAudited(rows, 'at the end');

    // Every request has exactly one outcome; the interrupted ones are exactly the crashes' orphans.
    const records = rows.map(parse);
    const requests = records.filter((r) => r.type === 'proxy.request').map((r) => r.requestId!);
    const outcomes = new Map<string, AuditRecord[]>();
    for (const r of records.filter((r) => r.type === 'proxy.outcome')) outcomes.set(r.requestId!, [...(outcomes.get(r.requestId!) ?? []), r]);
    expect(requests.filter((id) => outcomes.get(id)?.length !== 1), 'requests without exactly one outcome').toEqual([]);
    expect([...outcomes.keys()].filter((id) => !requests.includes(id)), 'outcomes without a request').toEqual([]);
    const interrupted = records.filter((r) => r.outcome === 'interrupted');
    expect(interrupted.every((r) => r.type === 'proxy.outcome' && r.reason === 'broker_restarted')).toBe(true);
    expect(interrupted.map((r) => r.requestId).sort()).toEqual([...everOrphaned].sort());
    expect(everOrphaned.size, `no call was in flight at any kill (delays ${delays.join(', ')} ms)`).toBeGreaterThan(0);
    expect(records.filter((r) => r.type === 'proxy.outcome' && r.outcome !== 'interrupted').every((r) => r.outcome === 'ok')).toBe(true);
  });
});

describe('a second broker starting on a shared store', () => {
  // BUG: `serve` closes every `proxy.request` without an outcome as interrupted at start
  // (closeInterrupted), whoever owns it. With two brokers sharing one SQLite store (supported: the
  // audit's group commit and the jti store are serialised across processes), starting or
  // restarting one closes the other's calls that are still running; when those finish, the live
  // broker writes their real outcome too, so the call has two outcomes, the first one false.
  // R-05 in security.md: "the replica holding a lock is never adopted". Expected: only calls of
  // brokers that are gone are closed (e.g. records carry a broker instance id, closed only when
  // that instance holds no lock / lease), leaving exactly one outcome per request.
  it('leaves the running broker’s in-flight call alone: it ends with exactly one outcome', { timeout: 60_000 }, async () => {
    const shared = newSite();
    const first = await serve({ site: shared, port: await freePort() });
    await waitUntilReady(first);
    const client = new Anthropic({ baseURL: first.url, apiKey: await exchange(first.url), maxRetries: 0 });
    // About 20 s of stream at the stub's pace: still running when the second broker has started.
    const stream = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'long-stream-1000' }] });
    const events = stream[Symbol.asyncIterator]();
    await events.next();
    const [request] = readRows(shared.dbPath).filter((r) => r.type === 'proxy.request').map(parse);

    const second = await serve({ site: shared, port: await freePort() });
    await waitUntilReady(second);
    stream.controller.abort(); // the caller gives up: the first broker records the real outcome
    await until(() => readRows(shared.dbPath).some((r) => r.type === 'proxy.outcome' && parse(r).outcome !== 'interrupted'), 'the first broker never recorded the outcome');
    await Promise.all([killNow(first.child), killNow(second.child)]);

    // Today: [interrupted (written by the second broker's start), the real one (by the first broker)].
    const outcomes = readRows(shared.dbPath).filter((r) => r.type === 'proxy.outcome').map(parse);
    expect(outcomes.map((o) => o.requestId)).toEqual([request!.requestId]);
    expect(outcomes[0]!.outcome).not.toBe('interrupted');
  });
});

/** Starts `skillgate serve` (the published bin), by default on the fixed port and store, with the secrets in its environment. */
async function serve(at: { site: Site; port: number } = { site, port }): Promise<Serving> {
  const child = spawn(process.execPath, ['bin/skillgate.js', 'serve', '--config', at.site.configPath, '--host', '127.0.0.1', '--port', String(at.port)], {
    cwd: ROOT,
    env: { ...process.env, [UPSTREAM_KEY_ENV]: STUB_API_KEY, [OPERATOR_ENV]: OPERATOR_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  // Always drained: a full pipe would block the broker.
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 40));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, url: `http://127.0.0.1:${at.port}`, output };
}

async function waitUntilReady({ child, url, output }: Serving): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`skillgate serve exited (${child.exitCode}):\n${output.join('\n')}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`skillgate serve did not become ready at ${url}:\n${output.join('\n')}`);
}

async function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function stopGracefully(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
  expect(child.exitCode, 'SIGTERM should end the broker cleanly').toBe(0);
}

async function exchange(at = url): Promise<string> {
  const res = await fetch(`${at}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token: await issuer.sign(issuer.githubClaims()), subject_token_type: ID_TOKEN_TYPE }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/**
 * `drive` runs LOOPS concurrent loops of calls with unique prompts (odd loops stream) until
 * `stop` is set; it resolves with the errors of calls that failed while the broker was still up.
 */
async function drive(client: Anthropic, round: number, stop: { stopped: boolean }): Promise<string[]> {
  const errors: string[] = [];
  const loop = async (l: number) => {
    for (let n = 0; n < MAX_CALLS_PER_LOOP && !stop.stopped; n++) {
      const request = { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user' as const, content: `crash round ${round} loop ${l} call ${n}` }] };
      try {
        if (l % 2 === 1) {
          const stream = await client.messages.create({ ...request, stream: true });
          for await (const _event of stream);
        } else {
          await client.messages.create(request);
        }
      } catch (err) {
        if (!stop.stopped) errors.push(`loop ${l} call ${n}: ${(err as Error).message}`);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, (_, l) => loop(l)));
  return errors;
}

/** Reads every record through the operator's audit API (cursor pages), remembering seq → hash. */
async function readThroughApi(into: Map<number, string>): Promise<void> {
  let cursor: number | null = null;
  for (let page = 0; page < 1000; page++) {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`;
    const res = await fetch(`${url}/v1/audit/events?limit=1000${query}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    const { data, next_cursor } = (await res.json()) as { data: StoredAuditRecord[]; next_cursor: number | null };
    for (const r of data) into.set(r.seq, r.hash);
    if (next_cursor === null) return;
    cursor = next_cursor;
  }
}

/** The audit table as it is on disk, read through a separate read-only connection. */
function readRows(path = dbPath): Row[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], Row>('SELECT seq, type, body, prev_hash, hash FROM audit_log ORDER BY seq').all();
  } finally {
    db.close();
  }
}

const byseq = (rows: Row[]) => new Map(rows.map((r) => [r.seq, r]));
const parse = (row: Row) => JSON.parse(row.body) as AuditRecord;

function expectUnchanged(before: Map<number, Row>, now: Row[], when: string): void {
  const current = byseq(now);
  const changed = [...before.values()].filter((r) => {
    const c = current.get(r.seq);
    return !c || c.body !== r.body || c.hash !== r.hash || c.prev_hash !== r.prev_hash;
  });
  expect(changed.map((r) => r.seq), `${when}: committed records lost or changed`).toEqual([]);
}

/** I-1: every prompt the stub upstream received has a committed `proxy.request` record. */
function expectUpstreamAudited(rows: Row[], when: string): void {
  const audited = new Set(rows.filter((r) => r.type === 'proxy.request').map((r) => promptOf((parse(r).data?.['request'] as { body?: unknown } | undefined)?.body)));
  const forwarded = stub.requests.filter((r) => r.path === '/v1/messages').map((r) => promptOf(JSON.parse(r.body.toString()) as unknown));
  expect(forwarded.length).toBeGreaterThan(0);
  expect(new Set(forwarded).size, 'prompts are unique per call').toBe(forwarded.length);
  expect(
    forwarded.filter((p) => !audited.has(p)),
    `${when}: forwarded upstream without a committed request record`,
  ).toEqual([]);
}

function promptOf(body: unknown): string {
  const content = (body as { messages?: { content?: unknown }[] } | undefined)?.messages?.[0]?.content;
  return typeof content === 'string' ? content : '';
}

/** Request ids of `proxy.request` records without a `proxy.outcome`. */
function orphans(rows: Row[]): string[] {
  const records = rows.map(parse);
  const closed = new Set(records.filter((r) => r.type === 'proxy.outcome').map((r) => r.requestId));
  return records.filter((r) => r.type === 'proxy.request' && !closed.has(r.requestId)).map((r) => r.requestId!);
}

async function until(condition: () => boolean, problem: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await sleep(50);
  }
  throw new Error(problem);
}

/** A port nobody listens on right now (the child cannot report port 0 back); reused on every restart. */
