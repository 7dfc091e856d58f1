// npm run bench:reconcile — one full reconciler run over 100 000 tokens of 2 000 actors in 500
// repositories, against the fake GitHub REST API through the real Octokit. Prints the run time
// (target: under 30 s) and the GitHub calls, which must be one per org page and one per repository
// whatever the number of tokens.
//
// Each actor works in two repositories, as people do; the run finds ~10% expired tokens, 20
// departed actors, 6 changed repositories, a few stale and policy-drifted tokens, and measures
// scope drift over 20 000 recorded calls.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../broker/config/load-config.ts';
import { generateId, hashToken } from '../broker/exchange/token-format.ts';
import { reconcile } from '../broker/reconcile/reconcile.ts';
import { createReconcileDeps } from '../broker/reconcile/reconcile-deps.ts';
import { openSqliteStore } from '../broker/store/sqlite-store.ts';
import type { TokenRecord } from '../broker/store/store.ts';
import { FAKE_GITHUB_TOKEN, startFakeGithub } from '../test/fake-github/server.ts';

const TOKENS = Number(process.env['BENCH_TOKENS'] ?? 100_000);
const ACTORS = 2_000;
const REPOS = 500;
const CALLS = 20_000;
const ORG = 'bench-org';
const DAY = 86_400_000;

const github = await startFakeGithub({ rateLimit: 100_000 });
const orgId = 4242;
github.addOrg(ORG, orgId);
const seed = github.seedBulk(ACTORS, REPOS, ORG);
const dir = mkdtempSync(join(tmpdir(), 'skillgate-bench-reconcile-'));
const store = openSqliteStore(join(dir, 'skillgate.db'));
const now = Date.now();

console.log(`seeding ${TOKENS} tokens, ${CALLS} recorded calls…`);
const seeded: TokenRecord[] = [];
for (let i = 0; i < TOKENS; i++) {
  const a = i % ACTORS;
  const actor = seed.actors[a]!;
  // Each actor's tokens alternate between its two repositories.
  const repo = seed.repos[(Math.floor(i / ACTORS) % 2 === 0 ? a : a * 7 + 3) % REPOS]!;
  const expired = i % 10 === 0;
  // Stale: the tokens of 40 actors were issued ten days ago and never used.
  const stale = a < 40 && !expired;
  const token: TokenRecord = {
    id: generateId('tok'),
    tokenHash: hashToken(randomBytes(16).toString('hex')),
    policy: i % 997 === 0 ? 'retired-bot' : 'ci',
    issuer: 'github',
    scopes: ['messages:create'],
    identity: {
      iss: 'https://token.actions.githubusercontent.com',
      sub: `repo:${repo.full_name}:ref:refs/heads/main`,
      repository: repo.full_name,
      repository_id: String(repo.id),
      repository_owner: ORG,
      repository_owner_id: String(orgId),
      repository_visibility: 'private',
      actor: actor.login,
      actor_id: String(actor.id),
      run_id: String(i),
      ref: 'refs/heads/main',
      event_name: 'push',
    },
    issuedAt: stale ? now - 10 * DAY : now - 3_600_000,
    expiresAt: expired ? now - 60_000 : now + 30 * DAY,
  };
  await store.commitExchange({ iss: token.identity.iss, jti: token.id, expiresAt: token.expiresAt }, token, { type: 'token.exchange', at: token.issuedAt, session: token.id, outcome: 'granted' });
  seeded.push(token);
}
const used = seeded.filter((t) => t.expiresAt > now && t.issuedAt > now - DAY);
await Promise.all(
  used.slice(0, CALLS).map((t, i) =>
    store.appendAudit({ type: 'proxy.request', at: now - (i % 1000) * 60_000, session: t.id, operation: 'messages:create', data: { policy: t.policy, request: { body: { model: 'claude-sonnet-5', tools: [{ type: 'bash_20250124', name: 'bash' }] }, truncated: false } } }),
  ),
);

// What changed since the tokens were minted.
for (const actor of seed.actors.slice(100, 120)) github.removeMember(ORG, actor.login);
github.deleteRepo(seed.repos[10]!.id);
github.deleteRepo(seed.repos[11]!.id);
github.archiveRepo(seed.repos[12]!.id);
github.archiveRepo(seed.repos[13]!.id);
github.setVisibility(seed.repos[14]!.id, 'public');
github.transferRepo(seed.repos[15]!.id, { login: 'elsewhere', id: 99 });

const config = parseConfig(
  stringify({
    audience: 'https://skillgate.bench',
    policies: [{ name: 'ci', issuer: 'github', match: { repository_owner_id: String(orgId) }, grant: { scopes: ['messages:create', 'models:read'], tools: { bash: 'allow', code_execution: 'allow' }, ttl: '30d' } }],
    reconciler: { stale_after: '7d', github: { token: 'env:BENCH_GITHUB_TOKEN', orgs: [ORG], api_url: github.url }, reports: { directory: './reports' } },
  }),
  { source: 'bench.yaml', baseDir: dir, env: { BENCH_GITHUB_TOKEN: FAKE_GITHUB_TOKEN } },
);
const deps = createReconcileDeps(config, store, { env: { BENCH_GITHUB_TOKEN: FAKE_GITHUB_TOKEN } });

github.requests.length = 0;
console.log('reconciling…');
const started = performance.now();
const outcome = await reconcile(deps, { trigger: 'cli' });
const seconds = (performance.now() - started) / 1000;
deps.close();
if (outcome.status !== 'completed') throw new Error(`run skipped: ${outcome.reason}`);

const report = outcome.report;
const memberPages = github.requests.filter((r) => r.path.endsWith('/members')).length;
const repoCalls = github.requests.filter((r) => r.path.startsWith('/repositories/')).length;
const expectedPages = Math.ceil(ACTORS / 100);
console.log(
  JSON.stringify(
    {
      tokens: TOKENS,
      actors: ACTORS,
      repositories: REPOS,
      seconds: Math.round(seconds * 100) / 100,
      github_calls: { member_pages: memberPages, expected_pages: expectedPages, repository_lookups: repoCalls, repositories: REPOS, total: github.requests.length },
      status: report.summary.status,
      revoked: report.summary.revoked,
      closed_expired: report.summary.closed_expired,
      held: report.summary.held,
      by_reason: report.summary.by_reason,
    },
    null,
    2,
  ),
);
console.log(`full reconciler run over ${TOKENS} tokens: ${seconds.toFixed(2)} s (target < 30 s); GitHub calls ${github.requests.length} = ${memberPages} member pages + ${repoCalls} repository lookups`);

await store.close();
await github.close();
rmSync(dir, { recursive: true, force: true });
if (seconds >= 30 || memberPages > expectedPages || repoCalls > REPOS) process.exitCode = 1;
