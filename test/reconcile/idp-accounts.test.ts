// People whose IdP account is gone: a SCIM /Users directory (paged) or a directory export file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import type { RevocationReport } from '../../broker/reconcile/report/report-schema.ts';
import { personIdentity, seedToken, tempStore, testConfig, testDeps, workflowIdentity, type TempStore } from './fixtures.ts';
import { scimUser, startScimServer, type ScimServer } from './scim-server.ts';

const NOW = Date.now();
let scim: ScimServer;
let db: TempStore;
let dir: string;
beforeEach(async () => {
  scim = await startScimServer([scimUser('alice@example.com'), scimUser('bob@example.com', false)]);
  db = tempStore();
  dir = mkdtempSync(join(tmpdir(), 'skillgate-idp-'));
});
afterEach(async () => {
  await scim.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(idp: Record<string, unknown>): Promise<RevocationReport> {
  const env = { ...process.env, TEST_SCIM_TOKEN: scim.token };
  const deps = testDeps(testConfig({ idp, safety: { max_share: 1 } }, { env, dir }), db.store, NOW, env);
  const outcome = await reconcile(deps, { trigger: 'cli' });
  deps.close();
  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  return outcome.report;
}

const person = (email: string) => seedToken(db.store, NOW, { policy: 'people', identity: personIdentity(email) });
const reasonOf = (report: RevocationReport, id: string) => report.revocations.find((r) => r.token_id === id)?.reason;
const viaScim = () => ({ scim_url: scim.url, scim_token: 'env:TEST_SCIM_TOKEN' });

describe('IdP accounts over SCIM', () => {
  it('revokes tokens of people deactivated in or deleted from the directory, and keeps the active', async () => {
    const [alice, bob, carol] = [await person('alice@example.com'), await person('bob@example.com'), await person('carol@example.com')];
    const report = await run(viaScim());
    expect(reasonOf(report, alice.id)).toBeUndefined();
    expect(reasonOf(report, bob.id)).toBe('idp_account_gone');
    expect(reasonOf(report, carol.id)).toBe('idp_account_gone');
    expect((await db.store.getToken(carol.id))?.revokedReason).toBe('idp_account_gone');
  });

  it('matches case-insensitively and pages through the whole directory (100 a page)', async () => {
    for (let i = 0; i < 230; i++) scim.users.unshift(scimUser(`filler${i}@example.com`));
    const alice = await seedToken(db.store, NOW, { policy: 'people', identity: { ...personIdentity('alice@example.com'), email: 'Alice@Example.com' } });
    const report = await run(viaScim());
    expect(reasonOf(report, alice.id)).toBeUndefined();
    expect(scim.requests.map((r) => new URL(r, 'http://x').searchParams.get('startIndex'))).toEqual(['1', '101', '201']);
  });

  it('never judges workflow tokens, and notes person tokens without the configured claim', async () => {
    const workflow = await seedToken(db.store, NOW, { identity: workflowIdentity() });
    const { email: _email, ...noEmail } = personIdentity('carol@example.com');
    const unnamed = await seedToken(db.store, NOW, { policy: 'people', identity: noEmail });
    const report = await run(viaScim());
    expect(reasonOf(report, workflow.id)).toBeUndefined();
    expect(reasonOf(report, unnamed.id)).toBeUndefined();
    expect(report.checks.find((c) => c.name === 'idp')?.notes.join(' ')).toContain('carry no email claim');
  });

  it('can match on sub instead of email', async () => {
    scim.users.push({ id: 'okta|carol@example.com', userName: 'someone-else', active: true });
    const carol = await person('carol@example.com');
    const bob = await person('bob@example.com');
    const report = await run({ ...viaScim(), claim: 'sub' });
    expect(reasonOf(report, carol.id)).toBeUndefined();
    expect(reasonOf(report, bob.id)).toBe('idp_account_gone');
  });
});

describe('IdP accounts from a directory export', () => {
  it('reads one name per line (comments allowed), relative to the config file', async () => {
    writeFileSync(join(dir, 'people.txt'), '# exported 2026-06-01\nalice@example.com\n');
    const [alice, bob] = [await person('alice@example.com'), await person('bob@example.com')];
    const report = await run({ file: 'people.txt' });
    expect(reasonOf(report, alice.id)).toBeUndefined();
    expect(reasonOf(report, bob.id)).toBe('idp_account_gone');
  });

  it('reads a SCIM ListResponse saved as JSON, honouring active: false', async () => {
    writeFileSync(join(dir, 'people.json'), JSON.stringify({ Resources: [scimUser('alice@example.com'), scimUser('bob@example.com', false)] }));
    const [alice, bob] = [await person('alice@example.com'), await person('bob@example.com')];
    const report = await run({ file: 'people.json' });
    expect(reasonOf(report, alice.id)).toBeUndefined();
    expect(reasonOf(report, bob.id)).toBe('idp_account_gone');
  });
});
