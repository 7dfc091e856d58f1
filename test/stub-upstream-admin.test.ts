// The stub's Admin API, driven by the real SDK where 1.14 covers it (`client.organization.*`:
// organisation, users, API keys) and by plain fetch for the usage report, which 1.14 only offers
// under a different (analytics) path.
import Anthropic, { AuthenticationError, BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SEED, STUB_ADMIN_KEY, STUB_API_KEY, startStubUpstream, type StubUpstream } from './stub-upstream/server.ts';

const { users: USERS, apiKeys: KEYS, workspaces: WORKSPACES } = ADMIN_SEED;
const BOB_SECRET = 'sk-ant-api03-bob-laptop-key-000000000000000000000000';
const DAY = 86_400_000;

let stub: StubUpstream;
beforeAll(async () => {
  stub = await startStubUpstream();
});
afterAll(() => stub.close());

function sdk(apiKey: string, target: StubUpstream = stub): Anthropic {
  return new Anthropic({ baseURL: target.url, apiKey, maxRetries: 0 });
}

/** An Admin API call as documented (§4): `x-api-key` admin key and `anthropic-version: 2023-06-01`. */
async function adminGet(path: string, target: StubUpstream = stub, key = STUB_ADMIN_KEY) {
  const res = await fetch(`${target.url}${path}`, { headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { data: Record<string, unknown>[] } };
}

async function withStub<T>(run: (own: StubUpstream) => Promise<T>): Promise<T> {
  const own = await startStubUpstream();
  try {
    return await run(own);
  } finally {
    await own.close();
  }
}

const ask = (text: string) => ({ model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user' as const, content: text }] });

describe('organisation and users', () => {
  it('answers /v1/organizations/me', async () => {
    expect(await sdk(STUB_ADMIN_KEY).organization.retrieve()).toEqual({ id: ADMIN_SEED.organization.id, type: 'organization', name: 'Stub Organization' });
  });

  it('pages through live users only, following after_id', async () => {
    const from = stub.requests.length;
    const users = [];
    for await (const user of sdk(STUB_ADMIN_KEY).organization.users.list({ limit: 2 })) users.push(user.id);
    expect(users).toEqual([USERS.alice, USERS.bob, USERS.carol]);
    expect(stub.requests.slice(from).map((r) => r.query)).toEqual(['limit=2', `limit=2&after_id=${USERS.bob}`]);
    const page = await adminGet('/v1/organizations/users?limit=2');
    expect(page.body).toMatchObject({ first_id: USERS.alice, last_id: USERS.bob, has_more: true });
  });

  it('filters users by email and role, and 404s a deleted user', async () => {
    const admin = sdk(STUB_ADMIN_KEY);
    const bob = await admin.organization.users.list({ email: 'BOB@stub.example' });
    expect(bob.data.map((u) => u.id)).toEqual([USERS.bob]);
    const admins = await admin.organization.users.list({ roles: ['admin'] });
    expect(admins.data.map((u) => u.email)).toEqual(['alice@stub.example']);
    await expect(admin.organization.users.retrieve(USERS.dave)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('updates a role (never to admin) and deletes a user, whose keys remain', async () => {
    await withStub(async (own) => {
      const admin = sdk(STUB_ADMIN_KEY, own);
      expect(await admin.organization.users.update(USERS.carol, { role: 'developer' })).toMatchObject({ role: 'developer' });
      await expect(admin.organization.users.update(USERS.carol, { role: 'admin' as 'user' })).rejects.toBeInstanceOf(BadRequestError);
      const bobKey = own.admin.addApiKey({ name: 'bob second', createdBy: { id: USERS.bob, type: 'user' } });
      expect(await admin.organization.users.remove(USERS.bob)).toEqual({ id: USERS.bob, type: 'user_deleted' });
      expect((await admin.organization.users.list()).data.map((u) => u.id)).not.toContain(USERS.bob);
      expect(await admin.organization.apiKeys.retrieve(bobKey.id)).toMatchObject({ status: 'active', created_by: { id: USERS.bob, type: 'user' } });
    });
  });
});

describe('api keys', () => {
  const ids = async (query: string) => (await adminGet(`/v1/organizations/api_keys${query}`)).body.data.map((k) => k['id']);

  it.each([
    ['status=active', [KEYS.upstream, KEYS.bob, KEYS.daveOrphan, KEYS.daveResearch, KEYS.serviceAccount]],
    ['status=expired', [KEYS.carolExpired]],
    ['status=inactive', [KEYS.erinInactive]],
    [`created_by_user_id=${USERS.dave}`, [KEYS.daveOrphan, KEYS.daveResearch]],
    [`workspace_id=${WORKSPACES.research}`, [KEYS.daveResearch, KEYS.bobArchived]],
    [`workspace_id=${WORKSPACES.ci}&status=active`, [KEYS.upstream, KEYS.daveOrphan, KEYS.serviceAccount]],
  ])('lists keys filtered by %s', async (query, expected) => {
    expect(await ids(`?${query}`)).toEqual(expected);
  });

  it('pages keys with limit and after_id, and the SDK follows them', async () => {
    const first = await adminGet('/v1/organizations/api_keys?limit=3');
    expect(first.body).toMatchObject({ has_more: true, first_id: KEYS.upstream, last_id: KEYS.carolExpired });
    const all = [];
    for await (const key of sdk(STUB_ADMIN_KEY).organization.apiKeys.list({ limit: 3 })) all.push(key.id);
    expect(all).toHaveLength(8);
    expect(all).toEqual(Object.values(KEYS));
  });

  it('shows the classic shape by default and the scoped shape on request', async () => {
    await withStub(async (own) => {
      const admin = sdk(STUB_ADMIN_KEY, own);
      const classic = await admin.organization.apiKeys.retrieve(KEYS.bob);
      expect(classic).toMatchObject({ type: 'api_key', workspace_id: null, created_by: { id: USERS.bob, type: 'user' }, expires_at: null });
      expect(classic.partial_key_hint).toMatch(/^sk-ant-api03-.{3}\.\.\..{4}$/);
      expect(classic).not.toHaveProperty('scope');
      own.admin.keyShape = 'scoped';
      expect(await admin.organization.apiKeys.retrieve(KEYS.bob)).toMatchObject({ principal: null, scope: { type: 'workspace', workspace_id: WORKSPACES.default } });
      expect(await admin.organization.apiKeys.retrieve(KEYS.daveResearch)).toMatchObject({ principal: { type: 'user_actor', user_id: USERS.dave } });
    });
  });

  it('updates status: inactive and back, expired is read-only, archived is final', async () => {
    await withStub(async (own) => {
      const keys = sdk(STUB_ADMIN_KEY, own).organization.apiKeys;
      expect(await keys.update(KEYS.daveOrphan, { status: 'inactive' })).toMatchObject({ id: KEYS.daveOrphan, status: 'inactive' });
      expect(await keys.update(KEYS.daveOrphan, { status: 'active', name: 'renamed' })).toMatchObject({ status: 'active', name: 'renamed' });
      await expect(keys.update(KEYS.daveOrphan, { status: 'expired' as 'inactive' })).rejects.toBeInstanceOf(BadRequestError);
      await expect(keys.update(KEYS.carolExpired, { status: 'active' })).rejects.toBeInstanceOf(BadRequestError);
      await expect(keys.update(KEYS.bobArchived, { status: 'active' })).rejects.toBeInstanceOf(BadRequestError);
      await expect(keys.retrieve('apikey_01NoSuchKey')).rejects.toBeInstanceOf(NotFoundError);
      expect(own.admin.apiKey(KEYS.daveOrphan).status).toBe('active');
    });
  });

  it('stops accepting a registered key once it is deactivated, and again once reactivated', async () => {
    await withStub(async (own) => {
      own.admin.registerApiKey(KEYS.bob, BOB_SECRET);
      const bob = sdk(BOB_SECRET, own);
      await bob.messages.create(ask('hello'));
      const keys = sdk(STUB_ADMIN_KEY, own).organization.apiKeys;
      await keys.update(KEYS.bob, { status: 'inactive' });
      await expect(bob.messages.create(ask('hello'))).rejects.toBeInstanceOf(AuthenticationError);
      await keys.update(KEYS.bob, { status: 'active' });
      await bob.messages.create(ask('hello'));
    });
  });
});

describe('usage report', () => {
  it('groups the usage of real /v1/messages calls by api_key_id', async () => {
    await withStub(async (own) => {
      own.admin.registerApiKey(KEYS.bob, BOB_SECRET);
      const upstream = await sdk(STUB_API_KEY, own).messages.create(ask('first call'));
      const streamed = await sdk(STUB_API_KEY, own).messages.stream(ask('second, streamed')).finalMessage();
      const legacy = await fetch(`${own.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': BOB_SECRET, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify(ask('from bob, the old way')),
      });
      const bobMessage = (await legacy.json()) as Anthropic.Message;
      await expect(sdk(BOB_SECRET, own).messages.create({ ...ask('refused'), model: 'no-such-model' })).rejects.toBeInstanceOf(NotFoundError);

      const since = new Date(Date.now() - DAY).toISOString();
      const report = await adminGet(`/v1/organizations/usage_report/messages?starting_at=${since}&group_by[]=api_key_id&bucket_width=1d`, own);
      expect(report.status).toBe(200);
      expect(report.body).toMatchObject({ has_more: false, next_page: null });
      const today = report.body.data.at(-1) as { results: Record<string, unknown>[] };
      const byKey = Object.fromEntries(today.results.map((r) => [r['api_key_id'], r]));
      expect(Object.keys(byKey).sort()).toEqual([KEYS.upstream, KEYS.bob].sort());
      expect(byKey[KEYS.upstream]).toMatchObject({
        uncached_input_tokens: upstream.usage.input_tokens + streamed.usage.input_tokens,
        output_tokens: upstream.usage.output_tokens + streamed.usage.output_tokens,
        workspace_id: null,
        model: null,
      });
      expect(byKey[KEYS.bob]).toMatchObject({ uncached_input_tokens: bobMessage.usage.input_tokens, output_tokens: bobMessage.usage.output_tokens });

      const onlyBob = await adminGet(`/v1/organizations/usage_report/messages?starting_at=${since}&api_key_ids[]=${KEYS.bob}&group_by[]=model&group_by[]=workspace_id`, own);
      const rows = onlyBob.body.data.flatMap((b) => b['results'] as Record<string, unknown>[]);
      expect(rows).toEqual([expect.objectContaining({ api_key_id: null, model: 'claude-sonnet-5', workspace_id: null, output_tokens: bobMessage.usage.output_tokens })]);
    });
  });

  it('pages buckets with the report cursor and shows planted history in its bucket', async () => {
    await withStub(async (own) => {
      const usedAt = Date.now() - 40 * DAY;
      own.admin.addUsage({ apiKeyId: KEYS.daveOrphan, at: usedAt, outputTokens: 7, uncachedInputTokens: 11 });
      const start = new Date(Date.now() - 45 * DAY).toISOString();
      const buckets: { starting_at: string; results: Record<string, unknown>[] }[] = [];
      let page: string | null = null;
      do {
        const cursor: string = page === null ? '' : `&page=${page}`;
        const res = await adminGet(`/v1/organizations/usage_report/messages?starting_at=${start}&limit=20&group_by[]=api_key_id${cursor}`, own);
        buckets.push(...(res.body.data as unknown as typeof buckets));
        page = res.body['next_page'] as string | null;
        expect(res.body['has_more']).toBe(page !== null);
      } while (page !== null);
      expect(buckets.length).toBeGreaterThanOrEqual(46);
      const used = buckets.filter((b) => b.results.length > 0);
      expect(used).toHaveLength(1);
      expect(Date.parse(used[0]!.starting_at)).toBe(Math.floor(usedAt / DAY) * DAY);
      expect(used[0]!.results).toEqual([expect.objectContaining({ api_key_id: KEYS.daveOrphan, output_tokens: 7, uncached_input_tokens: 11 })]);
    });
  });

  it.each([
    ['no starting_at', '', 'starting_at: Field required'],
    ['an unknown group', '?starting_at=2026-01-01T00:00:00Z&group_by[]=colour', 'group_by.0'],
    ['an unknown bucket width', '?starting_at=2026-01-01T00:00:00Z&bucket_width=1w', 'bucket_width'],
    ['too many buckets per page', '?starting_at=2026-01-01T00:00:00Z&bucket_width=1d&limit=32', 'limit'],
  ])('refuses %s with 400', async (_name, query, message) => {
    const res = await adminGet(`/v1/organizations/usage_report/messages${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining(message) } });
  });

  it('serves the cost report fixture with amounts as decimal strings', async () => {
    const res = await adminGet('/v1/organizations/cost_report?starting_at=2026-01-01T00:00:00Z');
    expect(res.body.data[0]).toMatchObject({ results: [{ currency: 'USD', amount: expect.stringMatching(/^\d+\.\d+$/) }] });
  });
});

describe('admin authentication', () => {
  it('refuses a standard key on admin routes, over x-api-key and Bearer', async () => {
    const res = await adminGet('/v1/organizations/api_keys', stub, STUB_API_KEY);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    await expect(sdk(STUB_API_KEY).organization.apiKeys.list()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('refuses the admin key on the Messages API', async () => {
    await expect(sdk(STUB_ADMIN_KEY).messages.create(ask('hi'))).rejects.toBeInstanceOf(AuthenticationError);
  });
});
