// Several brokers share one store: a lease in the store elects one reconciler at a time, and a
// scheduled slot is run once however many replicas fire for it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEASE_NAME } from '../../broker/reconcile/lease.ts';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import { createReconcileDeps } from '../../broker/reconcile/reconcile-deps.ts';
import type { Store } from '../../broker/store/store.ts';
import { FAKE_GITHUB_TOKEN, startFakeGithub, type FakeGithub } from '../fake-github/server.ts';
import { FAST_GITHUB, ORG, REPO, seedToken, tempStore, testConfig, testDeps, workflowIdentity, type TempStore } from './fixtures.ts';

const NOW = Date.now();
const ENV = { ...process.env, TEST_GITHUB_TOKEN: FAKE_GITHUB_TOKEN };
let github: FakeGithub;
let db: TempStore;
beforeEach(async () => {
  github = await startFakeGithub();
  github.addOrg(ORG.login, ORG.id);
  github.addMember(ORG.login, { login: 'hubot', id: 13 });
  github.addRepo({ id: REPO.id, name: REPO.name, owner: ORG });
  db = tempStore();
});
afterEach(async () => {
  await github.close();
  await db.close();
});

const config = () => testConfig({ github: { token: 'env:TEST_GITHUB_TOKEN', orgs: [ORG.login], api_url: github.url } }, { env: ENV });
const broker = (store: Store, timing = FAST_GITHUB) => createReconcileDeps(config(), store, { now: () => NOW, env: ENV, githubTiming: timing });

describe('one reconciler among brokers sharing a store', () => {
  it('two runs started together on two brokers: one does the work, the other stands aside', async () => {
    const token = await seedToken(db.store, NOW, { identity: workflowIdentity() });
    const [a, b] = [broker(db.store), broker(db.reopen())];
    const outcomes = await Promise.all([reconcile(a, { trigger: 'schedule' }), reconcile(b, { trigger: 'schedule' })]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['completed', 'skipped']);
    expect(outcomes.find((o) => o.status === 'skipped')).toMatchObject({ reason: expect.stringContaining('lease') });
    expect((await db.store.queryAudit({ type: 'reconcile.revoke', session: token.id })).records).toHaveLength(1);
    expect(await db.store.listReports(10)).toHaveLength(1);
    expect(github.requests.filter((r) => r.path === `/orgs/${ORG.login}/members`)).toHaveLength(1);
  });

  it('a run still waiting on GitHub keeps the lease: a second broker meanwhile does nothing', async () => {
    await seedToken(db.store, NOW, { identity: workflowIdentity() });
    github.injectFault({ kind: 'secondary-rate-limit', path: `/orgs/${ORG.login}/members`, retryAfter: 1 });
    const slow = reconcile(broker(db.store, { ...FAST_GITHUB, retryAfterBaseMs: 400 }), { trigger: 'schedule' });
    while (github.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const meanwhile = await reconcile(broker(db.reopen()), { trigger: 'schedule' });
    expect(meanwhile.status).toBe('skipped');
    expect((await slow).status).toBe('completed');
  });

  it('runs a scheduled slot once: a replica firing late for the same slot finds it done', async () => {
    const slot = NOW - 1000;
    expect((await reconcile(broker(db.store), { trigger: 'schedule', slot })).status).toBe('completed');
    const late = await reconcile(broker(db.reopen()), { trigger: 'schedule', slot });
    expect(late).toMatchObject({ status: 'skipped', reason: expect.stringContaining('already happened') });
  });

  it('takes over the lease of a broker that died mid-run once it lapses, and releases its own', async () => {
    await db.store.acquireLease(LEASE_NAME, 'dead-broker', NOW - 10 * 60_000, 5 * 60_000);
    const deps = testDeps(config(), db.store, NOW, ENV);
    expect((await reconcile(deps, { trigger: 'cli' })).status).toBe('completed');
    // Released: another holder may take it at once.
    expect(await db.store.acquireLease(LEASE_NAME, 'next-broker', NOW, 60_000)).toBe(true);
    expect((await reconcile(deps, { trigger: 'cli' })).status).toBe('skipped');
  });
});
