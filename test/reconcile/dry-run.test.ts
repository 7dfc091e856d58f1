// `--dry-run` checks everything and changes nothing: no revocation, no key update, no audit
// record, no stored report, no file, webhook or issue.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import { FAKE_GITHUB_TOKEN, startFakeGithub, type FakeGithub } from '../fake-github/server.ts';
import { ADMIN_SEED, STUB_ADMIN_KEY, startStubUpstream, type StubUpstream } from '../stub-upstream/server.ts';
import { DAY, ORG, REPO, seedToken, tempStore, testConfig, testDeps, workflowIdentity, type TempStore } from './fixtures.ts';

const NOW = Date.now();
const ENV = { ...process.env, TEST_GITHUB_TOKEN: FAKE_GITHUB_TOKEN, TEST_ADMIN_KEY: STUB_ADMIN_KEY };
let github: FakeGithub;
let stub: StubUpstream;
let db: TempStore;
let dir: string;
beforeEach(async () => {
  github = await startFakeGithub();
  github.addOrg(ORG.login, ORG.id);
  github.addMember(ORG.login, { login: 'hubot', id: 13 });
  github.addRepo({ id: REPO.id, name: REPO.name, owner: ORG });
  stub = await startStubUpstream();
  db = tempStore();
  dir = mkdtempSync(join(tmpdir(), 'skillgate-dry-'));
});
afterEach(async () => {
  await github.close();
  await stub.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reports what it would do and changes nothing', async () => {
  let webhookCalls = 0;
  const webhook = createServer((_req, res) => void (webhookCalls++, res.end('ok')));
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const expired = await seedToken(db.store, NOW, { issuedAt: NOW - 2 * DAY, expiresAt: NOW - DAY });
  const offboarded = await seedToken(db.store, NOW, { identity: workflowIdentity() });
  const config = testConfig(
    {
      github: { token: 'env:TEST_GITHUB_TOKEN', orgs: [ORG.login], api_url: github.url },
      anthropic_keys: { admin_key: 'env:TEST_ADMIN_KEY', base_url: stub.url, enforce: true },
      // Every seeded key is flagged (none has usage): let the dry run show what enforcing would do.
      safety: { max_share: 1 },
      reports: { directory: join(dir, 'reports'), webhook_url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`, github_issue: { repository: `${ORG.login}/${REPO.name}` } },
    },
    { env: ENV },
  );
  const auditBefore = await db.store.verifyAudit();
  const epochBefore = await db.store.revocationEpoch();

  const deps = testDeps(config, db.store, NOW, ENV);
  const outcome = await reconcile(deps, { trigger: 'cli', dryRun: true });
  deps.close();
  webhook.close();

  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  const report = outcome.report;
  expect(report.summary.dry_run).toBe(true);
  expect(report.revocations.find((r) => r.token_id === expired.id)).toMatchObject({ reason: 'expired', outcome: 'would_revoke' });
  expect(report.revocations.find((r) => r.token_id === offboarded.id)).toMatchObject({ reason: 'actor_offboarded', outcome: 'would_revoke' });
  expect(report.api_keys.find((k) => k.id === ADMIN_SEED.apiKeys.daveOrphan)?.outcome).toBe('would_deactivate');
  expect(report.summary.would_revoke).toBe(2);

  for (const t of [expired, offboarded]) expect((await db.store.getToken(t.id))?.revokedAt).toBeUndefined();
  expect(await db.store.revocationEpoch()).toBe(epochBefore);
  expect(await db.store.verifyAudit()).toEqual(auditBefore);
  expect(await db.store.listReports(10)).toEqual([]);
  expect(stub.admin.apiKey(ADMIN_SEED.apiKeys.daveOrphan).status).toBe('active');
  expect(stub.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  expect(github.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  expect(github.issues(REPO.id)).toHaveLength(0);
  expect(webhookCalls).toBe(0);
  expect(existsSync(join(dir, 'reports'))).toBe(false);
});
