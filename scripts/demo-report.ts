// A revocation report with something in every section the local checks fill (expired, stale,
// policy drift, scope drift, a chart of several runs), built by real reconciler runs on a
// throwaway store. For the screenshot script and the headless-Chromium test.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../broker/config/load-config.ts';
import { generateId, hashToken } from '../broker/exchange/token-format.ts';
import { reconcile } from '../broker/reconcile/reconcile.ts';
import { createReconcileDeps } from '../broker/reconcile/reconcile-deps.ts';
import type { RevocationReport } from '../broker/reconcile/report/report-schema.ts';
import { openSqliteStore } from '../broker/store/sqlite-store.ts';
import type { Store } from '../broker/store/store.ts';

const DAY = 86_400_000;

/** `buildDemoReport` runs the reconciler a few times over seeded tokens and returns the last report. */
export async function buildDemoReport(): Promise<RevocationReport> {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-demo-report-'));
  const store = openSqliteStore(join(dir, 'demo.db'));
  try {
    const config = parseConfig(
      stringify({
        audience: 'https://skillgate.example.com',
        policies: [
          { name: 'docs-bot', issuer: 'github', match: { repository_id: '74' }, grant: { scopes: ['messages:create', 'models:read', 'skills:read'], tools: { code_execution: 'allow', bash: 'allow' }, ttl: '30d' } },
          { name: 'release-notes', issuer: 'github', match: { repository_id: '75' }, grant: { scopes: ['messages:create'], ttl: '1h' } },
        ],
        reconciler: { stale_after: '7d' },
      }),
      { source: 'demo.yaml', baseDir: dir },
    );
    let report: RevocationReport | undefined;
    const start = Date.now() - 5 * DAY;
    for (let day = 0; day < 5; day++) {
      const now = start + day * DAY;
      for (let i = 0; i < 3 + day; i++) await seed(store, now, 'docs-bot', '74', { expiresAt: now - 1000 });
      for (let i = 0; i < day; i++) await seed(store, now, 'docs-bot', '74', { issuedAt: now - 9 * DAY, expiresAt: now + 20 * DAY });
      if (day % 2 === 0) await seed(store, now, 'retired-bot', '76', {});
      const used = await seed(store, now, 'docs-bot', '74', {});
      await store.appendAudit({ type: 'proxy.request', at: now - 1000, session: used, operation: 'messages:create', data: { policy: 'docs-bot', request: { body: { tools: [{ type: 'bash_20250124', name: 'bash' }] }, truncated: false } } });
      const deps = createReconcileDeps(config, store, { now: () => now });
      const outcome = await reconcile(deps, { trigger: day === 4 ? 'cli' : 'schedule' });
      deps.close();
      if (outcome.status === 'completed') report = outcome.report;
    }
    if (!report) throw new Error('no demo report was produced');
    return report;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function seed(store: Store, now: number, policy: string, repositoryId: string, times: { issuedAt?: number; expiresAt?: number }): Promise<string> {
  const id = generateId('tok');
  const identity = { iss: 'https://token.actions.githubusercontent.com', sub: `repo:octo-org/repo-${repositoryId}:ref:refs/heads/main`, repository: `octo-org/repo-${repositoryId}`, repository_id: repositoryId, repository_owner_id: '65', actor: 'octocat', actor_id: '583231' };
  const token = { id, tokenHash: hashToken(randomBytes(16).toString('hex')), policy, issuer: 'github', scopes: ['messages:create' as const], identity, issuedAt: times.issuedAt ?? now - 3_600_000, expiresAt: times.expiresAt ?? now + DAY };
  await store.commitExchange({ iss: identity.iss, jti: generateId('jti'), expiresAt: token.expiresAt }, token, { type: 'token.exchange', at: token.issuedAt, session: id, outcome: 'granted' });
  return id;
}
