// Graceful shutdown: readiness false at once, streams inside the grace period finish, streams
// that outlive it end with a terminal SSE error the SDK raises, and no new connection is accepted.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { shutDown } from '../../broker/shutdown.ts';
import { startBroker, DEFAULT_POLICIES, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';

const policies = [{ ...DEFAULT_POLICIES[0], grant: { scopes: ['messages:create'], models: ['claude-sonnet-5*'], max_tokens: 1024, tools: { custom: 'allow' }, ttl: '15m' } }];
const ask = { model: 'claude-sonnet-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'hello' }] };

let issuer: OidcIssuer;
let stub: StubUpstream;
let broker: TestBroker | undefined;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  // Each SSE event 150 ms apart: a stream lasts over a second.
  stub = await startStubUpstream({ eventDelayMs: 150 });
  process.env['SHUTDOWN_TEST_KEY'] = STUB_API_KEY;
});
afterAll(async () => {
  await stub.close();
  await issuer.close();
});
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

async function brokerWithToken() {
  broker = await startBroker({ issuerUrl: issuer.url, policies, config: { upstream: { base_url: stub.url, credential: 'env:SHUTDOWN_TEST_KEY' } } });
  const { body } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
  const client = new Anthropic({ baseURL: broker.url, apiKey: String(body['access_token']), maxRetries: 0 });
  return { broker, client };
}

/** Resolves once the first event of a stream has arrived, so shutdown starts mid-stream. */
function startStream(client: Anthropic) {
  const stream = client.messages.stream(ask);
  const started = new Promise<void>((resolve) => stream.once('streamEvent', () => resolve()));
  return { final: stream.finalMessage(), started };
}

describe('graceful shutdown', () => {
  it('lets a stream finish inside the grace period and turns readiness false at once', async () => {
    const { broker, client } = await brokerWithToken();
    const { final, started } = startStream(client);
    await started;
    const stopping = shutDown(broker.app, broker.lifecycle, broker.proxy?.streams, 30_000);
    expect(broker.lifecycle.draining).toBe(true);
    const message = await final;
    expect(message.stop_reason).toBe('end_turn');
    expect(await stopping).toBe(0);
  });

  it('ends a stream that outlives the grace period with an SSE error the SDK raises', async () => {
    const { broker, client } = await brokerWithToken();
    const { final, started } = startStream(client);
    const outcome = final.then(() => 'completed', (err: Error) => err.message);
    await started;
    const ended = await shutDown(broker.app, broker.lifecycle, broker.proxy?.streams, 100);
    expect(ended).toBe(1);
    expect(await outcome).toMatch(/broker is shutting down and ended this stream; retry the request/);
    await expect(fetch(`${broker.url}/healthz`)).rejects.toThrow();
  });
});
