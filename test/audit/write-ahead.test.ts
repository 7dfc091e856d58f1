// R-03 (reference/security.md §D): the audit store cannot be written → the proxy fails closed with
// 503 and forwards nothing; readiness reports it; once the store takes writes again, so does the
// proxy. The store is made unwritable by a second connection holding SQLite's write lock.
// Then the other half of write-ahead: the outcome record written after the call says how it ended.
import { join } from 'node:path';
import Anthropic, { InternalServerError } from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../broker/audit/audit-record.ts';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';

const UPSTREAM_KEY_ENV = 'SKILLGATE_TEST_WRITE_AHEAD_KEY';

let issuer: OidcIssuer;
let stub: StubUpstream;
let broker: TestBroker;
let client: Anthropic;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  // Paced streams (10 ms per event), so a caller can hang up while one is still running.
  stub = await startStubUpstream({ eventDelayMs: 10 });
  process.env[UPSTREAM_KEY_ENV] = STUB_API_KEY;
  broker = await startBroker({ issuerUrl: issuer.url, config: { upstream: { base_url: stub.url, credential: `env:${UPSTREAM_KEY_ENV}` } } });
  const { body } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
  client = new Anthropic({ baseURL: broker.url, apiKey: body['access_token'] as string, maxRetries: 0 });
});
afterAll(async () => {
  // After the SDK aborts a stream, the test's fetch pool opens a fresh connection that never sends
  // a request; fastify's close would wait for it until Node's 60 s headers timeout.
  broker?.app.server.closeAllConnections();
  await broker?.close();
  await stub?.close();
  await issuer?.close();
  delete process.env[UPSTREAM_KEY_ENV];
});

const ask = (prompt: string) => client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: prompt }] });

async function readiness(): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${broker.url}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

const promptOf = (r: AuditRecord) => String((r.data?.['request'] as { body?: { messages?: { content?: unknown }[] } } | undefined)?.body?.messages?.[0]?.content);

/** The prompts of every `proxy.request` the audit trail holds. */
async function auditedPrompts(): Promise<string[]> {
  const { records } = await broker.store.queryAudit({ type: 'proxy.request', limit: 1000 });
  return records.map(promptOf);
}

/** The outcome record of the call with this prompt, once written (bounded wait: it follows the reply). */
async function outcomeOf(prompt: string): Promise<AuditRecord> {
  const { records } = await broker.store.queryAudit({ type: 'proxy.request', limit: 1000 });
  const request = records.find((r) => promptOf(r) === prompt);
  if (!request?.requestId) throw new Error(`no request record for "${prompt}"`);
  for (let i = 0; i < 200; i++) {
    const outcome = (await broker.store.queryAudit({ type: 'proxy.outcome', limit: 1000 })).records.find((r) => r.requestId === request.requestId);
    if (outcome) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no outcome recorded for "${prompt}"`);
}

describe('audit store unwritable', () => {
  it('→ 503 with nothing forwarded and readiness false; released → ready and calls work again', async () => {
    await ask('before the outage'); // the path works end to end first, so the 503 below is the lock's doing
    expect((await readiness()).status).toBe(200);
    const forwardedBefore = stub.requests.length;

    const holder = new Database(join(broker.dir, 'skillgate.db'));
    try {
      holder.exec('BEGIN EXCLUSIVE');
      // The broker waits its busy_timeout (2 s) for the write lock, then refuses.
      const err = await ask('during the outage').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InternalServerError);
      expect((err as InternalServerError).status).toBe(503);
      expect((err as InternalServerError).message).toMatch(/audit trail cannot be written/);
      expect((err as InternalServerError).headers?.get('x-should-retry')).toBe('true');
      expect(stub.requests.length).toBe(forwardedBefore);

      const unready = await readiness();
      expect(unready.status).toBe(503);
      expect(unready.checks['audit']).toBe('unavailable');
      expect(unready.checks['store']).toBe('ok'); // reads still work: it is the write side that failed
    } finally {
      if (holder.inTransaction) holder.exec('COMMIT');
      holder.close();
    }

    const ready = await readiness();
    expect(ready.status).toBe(200);
    expect(ready.checks['audit']).toBe('ok');
    const message = await ask('after the outage');
    expect(message.type).toBe('message');
    expect(stub.requests.length).toBe(forwardedBefore + 1);
    // The refused call left no request record: the trail holds exactly what went upstream.
    expect(await auditedPrompts()).toEqual(['before the outage', 'after the outage']);
  });
});

describe('the outcome record', () => {
  it('a stream read to its end → ok, with its usage', async () => {
    const stream = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'a whole stream' }] });
    await stream.finalMessage();
    expect(await outcomeOf('a whole stream')).toMatchObject({ outcome: 'ok', data: { status: 200, ended: 'complete', usage: { outputTokens: expect.any(Number) } } });
  });

  // BUG: a caller hanging up mid-stream is recorded as `upstream_error`, not `client_abort`. The
  // pipeline's 'close' listener aborts the upstream request first; undici then errors the upstream
  // body, and respond.ts's `upstream.body.on('error', endWithError('upstream_error'))` sets `ended`
  // (error events come on process.nextTick) before the `closed` promise's continuation can say
  // 'client_abort'. The trail blames the upstream for what the caller did.
  it('a caller hanging up mid-stream → client_abort', async () => {
    const stream = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'long-stream-500' }] });
    const events = stream[Symbol.asyncIterator]();
    await events.next();
    stream.controller.abort();
    expect(await outcomeOf('long-stream-500')).toMatchObject({ outcome: 'client_abort' });
  });
});
