// The enforcing proxy end to end: the official @anthropic-ai/sdk talks to the broker with a
// skillgate token; the stub upstream records what actually arrived.
import Anthropic, { AuthenticationError, PermissionDeniedError, toFile } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBroker } from '../helpers/broker.ts';
import { PROXY_POLICIES, startProxyStack, type ProxyStack } from '../helpers/proxy-stack.ts';
import { STUB_API_KEY, STUB_ECHO_SECRET, type StubUpstream } from '../stub-upstream/server.ts';

let stack: ProxyStack;
let stub: StubUpstream;
let broker: TestBroker;
let token: string;

const policies = [
  {
    ...PROXY_POLICIES[0],
    grant: {
      scopes: ['messages:create', 'models:read', 'skills:read', 'skills:write', 'skills:delete', 'files:read', 'files:write'],
      models: ['claude-sonnet-5*'],
      max_tokens: 4096,
      tools: { code_execution: 'allow', custom: 'allow', bash: 'deny' },
      ttl: '15m',
    },
  },
];

beforeAll(async () => {
  stack = await startProxyStack({ policies, stub: { echoSecret: STUB_ECHO_SECRET } });
  ({ stub, broker, token } = stack);
});
afterAll(() => stack.close());

const sdk = (opts: { apiKey?: string; legacy?: boolean } = {}) =>
  new Anthropic({
    baseURL: broker.url,
    apiKey: opts.apiKey ?? token,
    maxRetries: 0,
    ...(opts.legacy && { defaultHeaders: { 'anthropic-version': '2023-06-01', 'x-api-key': opts.apiKey ?? token, authorization: null } }),
  });

const ask = { model: 'claude-sonnet-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'hello' }] };

describe('proxy with the official SDK', () => {
  it('creates a message; the real key reached upstream and the skillgate token did not', async () => {
    const before = stub.requests.length;
    const message = await sdk().messages.create(ask);
    expect(message.type).toBe('message');
    const seen = stub.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['x-api-key']).toBe(STUB_API_KEY);
    expect(seen[0]!.headers['authorization']).toBeUndefined();
    expect(JSON.stringify(seen[0]!.headers) + seen[0]!.body.toString()).not.toContain(token);
  });

  it('serves legacy clients that send x-api-key with 2023-06-01', async () => {
    const message = await sdk({ legacy: true }).messages.create(ask);
    expect(message.type).toBe('message');
    expect(stub.requests.at(-1)!.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('streams, and masks a secret split across deltas', async () => {
    const stream = sdk().messages.stream({ ...ask, messages: [{ role: 'user', content: 'please echo-secret' }] });
    const final = await stream.finalMessage();
    const text = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(text).not.toContain(STUB_ECHO_SECRET);
    expect(text).toMatch(/\[MASKED:[a-z0-9-]+\]/);
  });

  it('masks in non-streaming bodies too', async () => {
    const message = await sdk().messages.create({ ...ask, messages: [{ role: 'user', content: 'echo-secret' }] });
    expect(JSON.stringify(message)).not.toContain(STUB_ECHO_SECRET);
  });

  it('counts tokens and lists models', async () => {
    const count = await sdk().messages.countTokens({ model: ask.model, messages: ask.messages });
    expect(count.input_tokens).toBeGreaterThan(0);
    const models = await sdk().models.list();
    expect(models.data.length).toBeGreaterThan(0);
  });

  it('creates, lists and deletes a skill', async () => {
    const client = sdk();
    const skill = await client.skills.create({ display_title: 'Report', files: [await toFile(Buffer.from('---\nname: report\ndescription: writes reports\n---\nDo it.'), 'report/SKILL.md')] } as never);
    expect(skill.id).toMatch(/^skill_/);
    const list = await client.skills.list();
    expect(list.data.some((s) => s.id === skill.id)).toBe(true);
  });

  it('denies a model outside the grant as PermissionDeniedError, without calling upstream', async () => {
    const before = stub.requests.length;
    const err = await sdk().messages.create({ ...ask, model: 'claude-opus-5' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((err as PermissionDeniedError).message).toMatch(/model/);
    expect(stub.requests.length).toBe(before);
  });

  it('denies the Admin API', async () => {
    const before = stub.requests.length;
    const res = await fetch(`${broker.url}/v1/organizations/api_keys`, { headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01' } });
    expect([403, 404]).toContain(res.status);
    expect(((await res.json()) as { type: string }).type).toBe('error');
    expect(stub.requests.length).toBe(before);
  });

  it('refuses unknown and revoked tokens as AuthenticationError', async () => {
    await expect(sdk({ apiKey: 'sgt_notarealtoken' }).messages.create(ask)).rejects.toBeInstanceOf(AuthenticationError);
    const doomed = await stack.mint();
    await sdk({ apiKey: doomed }).messages.create(ask);
    await fetch(`${broker.url}/v1/token/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: doomed }) });
    await expect(sdk({ apiKey: doomed }).messages.create(ask)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('exposes Prometheus metrics without tokens or keys', async () => {
    const text = await (await fetch(`${broker.url}/metrics`)).text();
    expect(text).toContain('skillgate_proxy_requests_total');
    expect(text).not.toContain(token);
    expect(text).not.toContain(STUB_API_KEY);
    expect(broker.logs.join('\n')).not.toContain(STUB_API_KEY);
    expect(broker.logs.join('\n')).not.toContain(token);
  });
});
