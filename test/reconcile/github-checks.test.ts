// Offboarded actors and changed repositories, against the fake GitHub REST API through the real
// Octokit (with its throttling and retry plugins).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import type { RevocationReport } from '../../broker/reconcile/report/report-schema.ts';
import { FAKE_GITHUB_TOKEN, startFakeGithub, type FakeGithub } from '../fake-github/server.ts';
import { OCTOCAT, ORG, REPO, seedToken, tempStore, testConfig, testDeps, workflowIdentity, type TempStore } from './fixtures.ts';

const NOW = Date.now();
const ENV = { ...process.env, TEST_GITHUB_TOKEN: FAKE_GITHUB_TOKEN };
const HUBOT = { login: 'hubot', id: 1001 };
const OTHER_REPO = { id: 75, name: 'other-repo' };

let github: FakeGithub;
let db: TempStore;
beforeEach(async () => {
  github = await startFakeGithub();
  github.addOrg(ORG.login, ORG.id);
  github.addMember(ORG.login, OCTOCAT);
  github.addMember(ORG.login, HUBOT);
  github.addRepo({ id: REPO.id, name: REPO.name, owner: ORG });
  github.addRepo({ id: OTHER_REPO.id, name: OTHER_REPO.name, owner: ORG, visibility: 'public' });
  db = tempStore();
});
afterEach(async () => {
  await github.close();
  await db.close();
});

async function run(extra: Record<string, unknown> = {}): Promise<RevocationReport> {
  const config = testConfig({ github: { token: 'env:TEST_GITHUB_TOKEN', orgs: [ORG.login], api_url: github.url, ...extra }, safety: { max_share: 1 } }, { env: ENV });
  const deps = testDeps(config, db.store, NOW, ENV);
  const outcome = await reconcile(deps, { trigger: 'cli' });
  deps.close();
  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  return outcome.report;
}

const reasonOf = (report: RevocationReport, id: string) => report.revocations.find((r) => r.token_id === id)?.reason;
const actor = (a: { login: string; id: number }) => workflowIdentity({ actor: a.login, actor_id: String(a.id) });

describe('offboarded actors', () => {
  it('revokes the tokens of an actor who left every configured org, and only theirs', async () => {
    const leaver = await seedToken(db.store, NOW, { identity: actor(HUBOT) });
    const stayer = await seedToken(db.store, NOW, { identity: actor(OCTOCAT) });
    github.removeMember(ORG.login, HUBOT.login);
    const report = await run();
    expect(reasonOf(report, leaver.id)).toBe('actor_offboarded');
    expect(reasonOf(report, stayer.id)).toBeUndefined();
    expect((await db.store.getToken(leaver.id))?.revokedReason).toBe('actor_offboarded');
    expect(report.sources.find((s) => s.name === 'github_members')).toMatchObject({ status: 'ok' });
  });

  it('matches by the immutable actor id, so a renamed member keeps their tokens', async () => {
    const renamed = await seedToken(db.store, NOW, { identity: workflowIdentity({ actor: 'octocat-before-rename', actor_id: String(OCTOCAT.id) }) });
    expect(reasonOf(await run(), renamed.id)).toBeUndefined();
  });

  it('never judges bot actors or exempt actors, who are not org members', async () => {
    const bot = await seedToken(db.store, NOW, { identity: workflowIdentity({ actor: 'dependabot[bot]', actor_id: '49699333' }) });
    const exempt = await seedToken(db.store, NOW, { identity: workflowIdentity({ actor: 'release-robot', actor_id: '777' }) });
    const report = await run({ exempt_actors: ['release-robot'] });
    expect(reasonOf(report, bot.id)).toBeUndefined();
    expect(reasonOf(report, exempt.id)).toBeUndefined();
  });

  it('lists each org once, page by page (100 a page), however many tokens there are', async () => {
    github.seedBulk(250, 0, ORG.login);
    for (let i = 0; i < 20; i++) await seedToken(db.store, NOW, { identity: actor(OCTOCAT) });
    await run({ repositories: false });
    const memberPages = github.requests.filter((r) => /^\/(orgs\/[^/]+|organizations\/\d+)\/members$/.test(r.path));
    expect(memberPages).toHaveLength(3);
    expect(memberPages[0]!.query['per_page']).toBe('100');
  });

  it('waits out a secondary rate limit and a 502 as GitHub asks, then finishes the check', async () => {
    const leaver = await seedToken(db.store, NOW, { identity: actor(HUBOT) });
    github.removeMember(ORG.login, HUBOT.login);
    github.injectFault({ kind: 'secondary-rate-limit', path: `/orgs/${ORG.login}/members`, retryAfter: 1 });
    github.injectFault({ kind: 'status', status: 502, path: `/repositories/${REPO.id}` });
    const report = await run();
    expect(reasonOf(report, leaver.id)).toBe('actor_offboarded');
    expect(github.requests.filter((r) => r.path === `/orgs/${ORG.login}/members`)).toHaveLength(2);
    expect(github.requests.filter((r) => r.path === `/repositories/${REPO.id}`)).toHaveLength(2);
    expect(report.summary.status).toBe('ok');
  });
});

describe('repositories, by id', () => {
  it.each([
    ['deleted', (g: FakeGithub) => g.deleteRepo(REPO.id), 'repository_deleted'],
    ['transferred to another owner', (g: FakeGithub) => g.transferRepo(REPO.id, { login: 'evil-org', id: 666 }), 'repository_transferred'],
    ['archived', (g: FakeGithub) => g.archiveRepo(REPO.id), 'repository_archived'],
    ['made public after the token was minted private', (g: FakeGithub) => g.setVisibility(REPO.id, 'public'), 'repository_made_public'],
  ])('revokes tokens of a repository %s', async (_what, change, reason) => {
    const token = await seedToken(db.store, NOW);
    const elsewhere = await seedToken(db.store, NOW, { identity: workflowIdentity({ repository_id: String(OTHER_REPO.id), repository: `${ORG.login}/${OTHER_REPO.name}`, repository_visibility: 'public' }) });
    change(github);
    const report = await run();
    expect(reasonOf(report, token.id)).toBe(reason);
    expect(reasonOf(report, elsewhere.id)).toBeUndefined();
  });

  it('keeps tokens of unchanged repositories, public ones included, with one lookup per repository', async () => {
    const tokens = [await seedToken(db.store, NOW), await seedToken(db.store, NOW), await seedToken(db.store, NOW, { identity: workflowIdentity({ repository_id: String(OTHER_REPO.id), repository_visibility: 'public' }) })];
    const report = await run();
    for (const t of tokens) expect(reasonOf(report, t.id)).toBeUndefined();
    expect(github.requests.filter((r) => r.path.startsWith('/repositories/'))).toHaveLength(2);
    expect(report.sources.find((s) => s.name === 'github_repositories')).toMatchObject({ status: 'ok', calls: 2 });
  });
});
