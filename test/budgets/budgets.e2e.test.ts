// Budgets end to end: the official SDK (default retries on) through the real proxy to the stub
// upstream. A spent budget is a RateLimitError the SDK does not retry; holds are released to the
// real usage once a response ends; the policy window refills on the broker's clock.
import Anthropic, { RateLimitError } from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICIES, startBroker, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
let clock = T0;
let issuer: OidcIssuer;
let stub: StubUpstream;
let broker: TestBroker;

/** One policy per budget shape; each binds a different ref so a test picks its policy by ref. */
const policy = (name: string, budget: Record<string, unknown>) => ({
  ...DEFAULT_POLICIES[0],
  name,
  match: { ...DEFAULT_POLICIES[0]!.match, ref: `refs/heads/${name}` },
  grant: { scopes: ['messages:create', 'models:read'], models: ['claude-sonnet-5*'], max_tokens: 4096, ttl: '15m', budget },
});

beforeAll(async () => {
  issuer = await startOidcIssuer({ now: () => clock });
  stub = await startStubUpstream();
  process.env['TEST_UPSTREAM_KEY'] = STUB_API_KEY;
  broker = await startBroker({
    issuerUrl: issuer.url,
    now: () => clock,
    policies: [
      policy('per-token', { per_token: { requests: 3 } }),
      policy('per-policy', { per_policy: { requests: 2 }, window: '10m' }),
      policy('output', { per_token: { output_tokens: 1000 } }),
    ],
    config: { upstream: { base_url: stub.url, credential: 'env:TEST_UPSTREAM_KEY' } },
  });
});
afterEach(() => {
  stub.clearFaults();
});
afterAll(async () => {
  await broker.close();
  await stub.close();
  await issuer.close();
});

async function tokenFor(policyName: string): Promise<string> {
  const { status, body } = await broker.exchange(await issuer.sign(issuer.githubClaims({ ref: `refs/heads/${policyName}` })));
  expect(status).toBe(200);
  return body['access_token'] as string;
}

/** An SDK client with its default retries, counting every HTTP attempt it makes. */
function client(apiKey: string) {
  const attempts = { count: 0 };
  const sdk = new Anthropic({
    baseURL: broker.url,
    apiKey,
    fetch: (input, init) => {
      attempts.count++;
      return fetch(input, init);
    },
  });
  return { sdk, attempts };
}

const ask = (maxTokens = 256) => ({ model: 'claude-sonnet-5', max_tokens: maxTokens, messages: [{ role: 'user' as const, content: 'hello' }] });

async function rateLimited(call: Promise<unknown>): Promise<RateLimitError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RateLimitError);
  return err as RateLimitError;
}

describe('budgets through the proxy', () => {
  it('stops a run mid-way with a RateLimitError the SDK does not retry, and nothing reaches upstream', async () => {
    const { sdk, attempts } = client(await tokenFor('per-token'));
    const upstreamBefore = stub.requests.length;
    for (let i = 0; i < 3; i++) expect((await sdk.messages.create(ask())).type).toBe('message');
    expect(stub.requests.length - upstreamBefore).toBe(3);

    attempts.count = 0;
    const err = await rateLimited(sdk.messages.create(ask()));
    expect(err.status).toBe(429);
    expect(err.headers.get('x-should-retry')).toBe('false');
    expect(err.type).toBe('rate_limit_error');
    expect(err.message).toMatch(/budget exhausted: token tok_\S+ has used 3 of its 3 requests .* never refills — exchange a new token/);
    expect(attempts.count).toBe(1); // maxRetries is 2 by default: x-should-retry: false stopped it
    expect(stub.requests.length - upstreamBefore).toBe(3);

    // Only model calls are budgeted: the spent token still lists models.
    expect((await sdk.models.list()).data.length).toBeGreaterThan(0);
  });

  it('shares the policy window among tokens and refills it on the broker clock', async () => {
    const first = client(await tokenFor('per-policy')).sdk;
    const second = client(await tokenFor('per-policy')).sdk;
    await first.messages.create(ask());
    clock += 60_000;
    await second.messages.create(ask());

    const err = await rateLimited(first.messages.create(ask()));
    expect(err.message).toMatch(/policy per-policy has used 2 of its 2 requests in the last 10m/);
    expect(err.message).toContain(`It refills at ${new Date(T0 + 600_000).toISOString()}`);

    clock = T0 + 600_000;
    expect((await second.messages.create(ask())).type).toBe('message');
    await rateLimited(first.messages.create(ask()));
  });

  it('holds max_tokens while requests run and releases it to the real usage when they end', async () => {
    const { sdk } = client(await tokenFor('output'));
    // Two slow replies keep their holds (900 each) open; a third request finds no room meanwhile.
    stub.injectFault({ kind: 'slow-first-byte', delayMs: 600, method: 'POST', path: '/v1/messages' });
    stub.injectFault({ kind: 'slow-first-byte', delayMs: 600, method: 'POST', path: '/v1/messages' });
    const upstreamBefore = stub.requests.length;
    const running = [sdk.messages.create(ask(900)), sdk.messages.create(ask(900))];
    try {
      await vi.waitFor(() => expect(stub.requests.length - upstreamBefore).toBe(2));
      const err = await rateLimited(sdk.messages.create(ask(900)));
      expect(err.message).toMatch(/has used 1800 of its 1000 output_tokens .*1800 of it held by requests still running/);
    } finally {
      await Promise.allSettled(running); // a failed check must not leave calls open across the broker's shutdown
    }

    const done = await Promise.all(running);
    const spent = done.reduce((sum, m) => sum + m.usage.output_tokens, 0);
    expect(spent).toBeLessThan(100);
    // Settled to what the stub really produced, the budget has room for many more calls, streamed or not.
    for (let i = 0; i < 3; i++) await sdk.messages.create(ask(900));
    const streamed = await sdk.messages.stream(ask(900)).finalMessage();
    expect(streamed.type).toBe('message');
  });
});
