// The safety brake: a run that would cut off an implausible share of principals revokes nothing,
// and a source that fails or answers implausibly (an empty member list, every repository 404,
// an empty directory) revokes nothing on its word. The report says why.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import type { RevocationReport } from '../../broker/reconcile/report/report-schema.ts';
import { FAKE_GITHUB_TOKEN, startFakeGithub, type FakeGithub } from '../fake-github/server.ts';
import { ADMIN_SEED, STUB_ADMIN_KEY, startStubUpstream } from '../stub-upstream/server.ts';
import { DAY, ORG, REPO, personIdentity, seedToken, tempStore, testConfig, testDeps, workflowIdentity, type TempStore } from './fixtures.ts';
import { scimUser, startScimServer } from './scim-server.ts';

const NOW = Date.now();
const ENV = { ...process.env, TEST_GITHUB_TOKEN: FAKE_GITHUB_TOKEN, TEST_ADMIN_KEY: STUB_ADMIN_KEY, TEST_SCIM_TOKEN: 'scim-test-token' };
const MEMBERS = Array.from({ length: 8 }, (_, i) => ({ login: `member-${i}`, id: 2000 + i }));

let github: FakeGithub;
let db: TempStore;
beforeEach(async () => {
  github = await startFakeGithub();
  github.addOrg(ORG.login, ORG.id);
  for (const m of MEMBERS) github.addMember(ORG.login, m);
  github.addRepo({ id: REPO.id, name: REPO.name, owner: ORG });
  github.addRepo({ id: 75, name: 'other-repo', owner: ORG });
  db = tempStore();
});
afterEach(async () => {
  await github.close();
  await db.close();
});

async function run(reconciler: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = ENV): Promise<RevocationReport> {
  const config = testConfig({ github: { token: 'env:TEST_GITHUB_TOKEN', orgs: [ORG.login], api_url: github.url }, ...reconciler }, { env });
  const deps = testDeps(config, db.store, NOW, env);
  const outcome = await reconcile(deps, { trigger: 'cli' });
  deps.close();
  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  return outcome.report;
}

const seedMembers = () => Promise.all(MEMBERS.map((m) => seedToken(db.store, NOW, { identity: workflowIdentity({ actor: m.login, actor_id: String(m.id) }) })));
const stillActive = async (ids: string[]) => (await Promise.all(ids.map((id) => db.store.getToken(id)))).every((t) => t?.revokedAt === undefined);

describe('share of principals', () => {
  it('holds back every revocation when a run would cut off more than max_share of the principals', async () => {
    const tokens = await seedMembers();
    const expired = await seedToken(db.store, NOW, { issuedAt: NOW - 2 * DAY, expiresAt: NOW - DAY });
    for (const m of MEMBERS.slice(0, 4)) github.removeMember(ORG.login, m.login);
    const report = await run({ safety: { max_share: 0.25, floor: 3 } });
    expect(report.summary.status).toBe('braked');
    expect(report.brake.tokens).toMatchObject({ tripped: true, affected: 4, population: 8 });
    expect(report.brake.tokens.detail).toContain('nothing was revoked');
    expect(report.revocations.filter((r) => r.reason === 'actor_offboarded').map((r) => r.outcome)).toEqual(['held', 'held', 'held', 'held']);
    expect(await stillActive(tokens.map((t) => t.id))).toBe(true);
    // Closing out expired tokens cuts nobody off: it never waits for the brake.
    expect((await db.store.getToken(expired.id))?.revokedReason).toBe('expired');
    const { records } = await db.store.queryAudit({ type: 'reconcile.flag', outcome: 'held' });
    expect(records).toHaveLength(4);
  });

  it('lets a small run through: at most floor principals never trip it', async () => {
    const tokens = await seedMembers();
    github.removeMember(ORG.login, MEMBERS[0]!.login);
    github.removeMember(ORG.login, MEMBERS[1]!.login);
    const report = await run({ safety: { max_share: 0.1, floor: 2 } });
    expect(report.brake.tokens.tripped).toBe(false);
    expect(report.summary.revoked).toBe(2);
    expect(await stillActive([tokens[0]!.id])).toBe(false);
  });
});

describe('sources', () => {
  it('revokes nothing on an empty member list, and says why', async () => {
    const tokens = await seedMembers();
    const deleted = await seedToken(db.store, NOW, { identity: workflowIdentity({ actor: MEMBERS[0]!.login, actor_id: String(MEMBERS[0]!.id), repository_id: '75' }) });
    github.deleteRepo(75);
    github.injectFault({ kind: 'empty-members', path: `/orgs/${ORG.login}/members` });
    const report = await run();
    expect(report.sources.find((s) => s.name === 'github_members')).toMatchObject({ status: 'implausible' });
    expect(report.sources.find((s) => s.name === 'github_members')?.detail).toContain('returned no members');
    expect(report.checks.find((c) => c.name === 'offboarded')).toMatchObject({ status: 'source_failed', found: 0 });
    expect(await stillActive(tokens.map((t) => t.id))).toBe(true);
    expect(report.summary.status).toBe('degraded');
    // The repositories source answered well, so its finding stands.
    expect(report.revocations.find((r) => r.token_id === deleted.id)?.reason).toBe('repository_deleted');
  });

  it('revokes nothing from GitHub while it fails, after its retries', async () => {
    const tokens = await seedMembers();
    for (const m of MEMBERS.slice(0, 2)) github.removeMember(ORG.login, m.login);
    github.deleteRepo(REPO.id);
    github.injectFault({ kind: 'status', status: 503, times: 100 });
    const report = await run();
    expect(report.sources.map((s) => [s.name, s.status])).toEqual([['github_members', 'failed'], ['github_repositories', 'failed']]);
    expect(report.errors.map((e) => e.message).join('\n')).toContain('HTTP 503');
    expect(report.revocations).toHaveLength(0);
    expect(await stillActive(tokens.map((t) => t.id))).toBe(true);
  });

  it('treats every repository answering 404 as lost access, not mass deletion', async () => {
    const member = { actor: MEMBERS[0]!.login, actor_id: String(MEMBERS[0]!.id) };
    const a = await seedToken(db.store, NOW, { identity: workflowIdentity(member) });
    const b = await seedToken(db.store, NOW, { identity: workflowIdentity({ ...member, repository_id: '75' }) });
    github.deleteRepo(REPO.id);
    github.deleteRepo(75);
    const report = await run();
    expect(report.sources.find((s) => s.name === 'github_repositories')).toMatchObject({ status: 'implausible' });
    expect(await stillActive([a.id, b.id])).toBe(true);
  });

  it('fails the GitHub sources when the token cannot be read', async () => {
    const token = await seedToken(db.store, NOW);
    github.removeMember(ORG.login, 'octocat');
    const { TEST_GITHUB_TOKEN: _gone, ...env } = ENV;
    const report = await run({}, env);
    expect(report.sources.find((s) => s.name === 'github_members')?.detail).toContain('TEST_GITHUB_TOKEN');
    expect(await stillActive([token.id])).toBe(true);
  });

  it('revokes nothing from an IdP that fails or lists nobody', async () => {
    const scim = await startScimServer([scimUser('alice@example.com')]);
    try {
      const bob = await seedToken(db.store, NOW, { policy: 'people', identity: personIdentity('bob@example.com') });
      scim.failWith = 500;
      const failed = await run({ idp: { scim_url: scim.url, scim_token: 'env:TEST_SCIM_TOKEN' } });
      expect(failed.sources.find((s) => s.name === 'idp')).toMatchObject({ status: 'failed' });
      delete scim.failWith;
      scim.users.length = 0;
      const empty = await run({ idp: { scim_url: scim.url, scim_token: 'env:TEST_SCIM_TOKEN' } });
      expect(empty.sources.find((s) => s.name === 'idp')).toMatchObject({ status: 'implausible' });
      expect(await stillActive([bob.id])).toBe(true);
    } finally {
      await scim.close();
    }
  });

  it('deactivates no key while the Admin API fails or lists no users, even with enforce: true', async () => {
    const stub = await startStubUpstream();
    try {
      const keys = { admin_key: 'env:TEST_ADMIN_KEY', base_url: stub.url, enforce: true };
      stub.injectFault({ kind: 'status', status: 500, path: '/v1/organizations/api_keys' });
      const failed = await run({ anthropic_keys: keys });
      expect(failed.sources.find((s) => s.name === 'admin_api')).toMatchObject({ status: 'failed' });
      for (const user of [...stub.admin.users]) stub.admin.deleteUser(user.id);
      const empty = await run({ anthropic_keys: keys });
      expect(empty.sources.find((s) => s.name === 'admin_api')).toMatchObject({ status: 'implausible' });
      expect(stub.admin.apiKey(ADMIN_SEED.apiKeys.daveOrphan).status).toBe('active');
      expect(stub.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    } finally {
      await stub.close();
    }
  });

  it('holds key deactivations past max_share of the active keys', async () => {
    const stub = await startStubUpstream();
    try {
      const report = await run({ anthropic_keys: { admin_key: 'env:TEST_ADMIN_KEY', base_url: stub.url, enforce: true }, safety: { max_share: 0.25, floor: 0 } });
      expect(report.brake.keys.tripped).toBe(true);
      expect(report.api_keys.filter((k) => k.outcome === 'held').length).toBeGreaterThan(0);
      expect(report.api_keys.some((k) => k.outcome === 'deactivated')).toBe(false);
      expect(stub.admin.apiKey(ADMIN_SEED.apiKeys.daveOrphan).status).toBe('active');
    } finally {
      await stub.close();
    }
  });
});
