// security.md R-09: revoking a token ends its open streams — with an SSE error the SDK raises
// (`token_revoked`), within 2 s, the upstream call aborted and the outcome audited as `revoked` —
// whoever revoked it: this broker, or another process sharing the store (the CLI, a replica).
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../broker/exchange/token-format.ts';
import { openSqliteStore } from '../../broker/store/sqlite-store.ts';
import { startProxyStack, type ProxyStack } from '../helpers/proxy-stack.ts';

let stack: ProxyStack;

beforeAll(async () => {
  // 40 deltas 100 ms apart: a stream runs about four seconds.
  stack = await startProxyStack({ stub: { eventDelayMs: 100 } });
});
afterAll(async () => {
  await stack.close();
});

const ask = { model: 'claude-sonnet-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'long-stream-40' }] };

/** Starts a stream and resolves `started` once its first event is in. */
function openStream(token: string) {
  const stream = new Anthropic({ baseURL: stack.broker.url, apiKey: token, maxRetries: 0 }).messages.stream(ask);
  const started = new Promise<void>((resolve) => stream.once('streamEvent', () => resolve()));
  const ended = stream.finalMessage().then(
    (message) => ({ at: Date.now(), stop: message.stop_reason, error: undefined }),
    (error: unknown) => ({ at: Date.now(), stop: undefined, error }),
  );
  return { started, ended };
}

async function tokenId(token: string): Promise<string> {
  const record = await stack.broker.store.findTokenByHash(hashToken(token));
  if (!record) throw new Error('unknown token');
  return record.id;
}

async function outcomesOf(session: string, count: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const { records } = await stack.broker.store.queryAudit({ type: 'proxy.outcome', session });
    if (records.length >= count) return records.map((r) => r.outcome ?? '');
    await sleep(50);
  }
  throw new Error(`fewer than ${count} outcomes for ${session}`);
}

describe.each([
  ['by this broker', async (id: string) => void (await stack.broker.store.revokeToken(id, 'test', 'operator', Date.now()))],
  [
    'by another process sharing the store',
    async (id: string) => {
      const other = openSqliteStore(stack.broker.config.storePath);
      await other.revokeToken(id, 'test', 'cli', Date.now());
      await other.close();
    },
  ],
])('revoking a token with streams open, %s', (_, revoke) => {
  it('ends its streams with token_revoked within 2 s, aborts them upstream, audits them revoked, and leaves other tokens alone', async () => {
    const [doomed, bystander] = [await stack.mint(), await stack.mint()];
    const streams = [openStream(doomed), openStream(doomed)];
    const unaffected = openStream(bystander);
    await Promise.all([...streams, unaffected].map((s) => s.started));
    const upstreamAbortsBefore = stack.stub.aborted.length;

    const revokedAt = Date.now();
    await revoke(await tokenId(doomed));

    for (const { ended } of streams) {
      const end = await ended;
      expect(end.error).toBeInstanceOf(APIError);
      expect((end.error as APIError).message).toMatch(/revoked while the stream was open/);
      expect(JSON.stringify((end.error as APIError).error)).toContain('token_revoked');
      expect(end.at - revokedAt).toBeLessThan(2000);
    }
    expect(await outcomesOf(await tokenId(doomed), 2)).toEqual(['revoked', 'revoked']);
    for (let i = 0; i < 40 && stack.stub.aborted.length < upstreamAbortsBefore + 2; i++) await sleep(50);
    expect(stack.stub.aborted.length).toBe(upstreamAbortsBefore + 2);

    const other = await unaffected.ended;
    expect(other.error).toBeUndefined();
    expect(other.stop).toBe('end_turn');
  });
});
