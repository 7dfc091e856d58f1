// Long-lived Anthropic API keys through the stub's Admin API: keys of departed creators and keys
// without usage are flagged, and set inactive only with enforce: true.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import type { RevocationReport } from '../../broker/reconcile/report/report-schema.ts';
import { ADMIN_SEED, STUB_ADMIN_KEY, startStubUpstream, type StubUpstream } from '../stub-upstream/server.ts';
import { DAY, tempStore, testConfig, testDeps, type TempStore } from './fixtures.ts';

const NOW = Date.now();
// A realistic upstream key: the stub's seeded secrets share one prefix and suffix, so their
// Console hints would all look like the broker's own key.
const UPSTREAM_SECRET = `sk-ant-api03-${randomBytes(70).toString('base64url').slice(0, 93)}AA`;
const ENV = { ...process.env, TEST_ADMIN_KEY: STUB_ADMIN_KEY, TEST_UPSTREAM_KEY: UPSTREAM_SECRET };
const KEYS = ADMIN_SEED.apiKeys;

let stub: StubUpstream;
let db: TempStore;
beforeEach(async () => {
  stub = await startStubUpstream({ apiKeys: [UPSTREAM_SECRET, STUB_ADMIN_KEY] });
  stub.admin.registerApiKey(KEYS.upstream, UPSTREAM_SECRET);
  // Bob's key and the deploy bot are in use; the others (upstream, dave's) are not.
  stub.admin.addUsage({ apiKeyId: KEYS.bob, at: NOW - 2 * DAY, uncachedInputTokens: 100, outputTokens: 20 });
  stub.admin.addUsage({ apiKeyId: KEYS.serviceAccount, at: NOW - 5 * DAY, outputTokens: 5 });
  db = tempStore();
});
afterEach(async () => {
  await stub.close();
  await db.close();
});

async function run(keys: Record<string, unknown> = {}, safety: Record<string, unknown> = {}): Promise<RevocationReport> {
  const config = testConfig(
    { anthropic_keys: { admin_key: 'env:TEST_ADMIN_KEY', base_url: stub.url, stale_after: '30d', ...keys }, safety },
    { env: ENV, extra: { upstream: { base_url: stub.url, credential: 'env:TEST_UPSTREAM_KEY' } } },
  );
  const deps = testDeps(config, db.store, NOW, ENV);
  const outcome = await reconcile(deps, { trigger: 'cli' });
  deps.close();
  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  return outcome.report;
}

const keyEntry = (report: RevocationReport, id: string) => report.api_keys.find((k) => k.id === id);

describe('API key inventory', () => {
  it('flags keys whose creator or owner left, and without enforce leaves every key active', async () => {
    const report = await run();
    expect(keyEntry(report, KEYS.daveOrphan)).toMatchObject({ reason: 'key_creator_offboarded', outcome: 'flagged', also: [{ reason: 'key_unused' }] });
    expect(keyEntry(report, KEYS.daveResearch)).toMatchObject({ reason: 'key_creator_offboarded', outcome: 'flagged' });
    expect(keyEntry(report, KEYS.bob)).toBeUndefined();
    expect(keyEntry(report, KEYS.serviceAccount)).toBeUndefined();
    for (const id of [KEYS.daveOrphan, KEYS.daveResearch]) expect(stub.admin.apiKey(id).status).toBe('active');
    expect(stub.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    const { records } = await db.store.queryAudit({ type: 'reconcile.flag' });
    expect(records.map((r) => r.data?.['api_key_id'])).toEqual(expect.arrayContaining([KEYS.daveOrphan, KEYS.daveResearch]));
  });

  it('flags a key with no usage for stale_after, and spares one used within it', async () => {
    stub.admin.addUsage({ apiKeyId: KEYS.bob, at: NOW - 2 * DAY, outputTokens: 0 });
    const report = await run({ stale_after: '1d' });
    expect(keyEntry(report, KEYS.bob)).toMatchObject({ reason: 'key_unused', outcome: 'flagged' });
    expect(keyEntry(report, KEYS.serviceAccount)?.reason).toBe('key_unused');
    const fresh = await run({ stale_after: '30d' });
    expect(keyEntry(fresh, KEYS.bob)).toBeUndefined();
  });

  it('with enforce: true sets flagged keys inactive (the stub then refuses them), never the broker\u2019s own upstream key', async () => {
    const daveSecret = `sk-ant-api03-${randomBytes(70).toString('base64url').slice(0, 93)}AA`;
    stub.admin.registerApiKey(KEYS.daveOrphan, daveSecret);
    const models = () => fetch(`${stub.url}/v1/models`, { headers: { 'x-api-key': daveSecret, 'anthropic-version': '2023-06-01' } }).then((r) => r.status);
    expect(await models()).toBe(200);
    const report = await run({ enforce: true });
    expect(await models()).toBe(401);
    expect(keyEntry(report, KEYS.daveOrphan)?.outcome).toBe('deactivated');
    expect(keyEntry(report, KEYS.daveResearch)?.outcome).toBe('deactivated');
    expect(stub.admin.apiKey(KEYS.daveOrphan).status).toBe('inactive');
    // Unused for 30 days, so flagged, but it is what the proxy forwards with.
    expect(keyEntry(report, KEYS.upstream)).toMatchObject({ reason: 'key_unused', outcome: 'exempt' });
    expect(stub.admin.apiKey(KEYS.upstream).status).toBe('active');
    const { records } = await db.store.queryAudit({ type: 'reconcile.revoke' });
    expect(records.filter((r) => r.outcome === 'deactivated').map((r) => r.data?.['api_key_id']).sort()).toEqual([KEYS.daveOrphan, KEYS.daveResearch].sort());
    expect(report.summary.keys_deactivated).toBe(2);
  });

  it('never deactivates a key listed under exempt', async () => {
    const report = await run({ enforce: true, exempt: [KEYS.daveOrphan] });
    expect(keyEntry(report, KEYS.daveOrphan)).toMatchObject({ outcome: 'exempt', note: 'listed under anthropic_keys.exempt' });
    expect(stub.admin.apiKey(KEYS.daveOrphan).status).toBe('active');
  });

  it('reads the 2026 key shape (principal, scope) as well as the classic one', async () => {
    stub.admin.keyShape = 'scoped';
    const report = await run();
    expect(keyEntry(report, KEYS.daveResearch)?.reason).toBe('key_creator_offboarded');
  });
});
