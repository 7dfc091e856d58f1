// The checks that need nothing but the store and the config: expiry, staleness, policy drift.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import type { RevocationReport } from '../../broker/reconcile/report/report-schema.ts';
import { DAY, HOUR, POLICIES, recordUse, seedToken, tempStore, testConfig, testDeps, workflowIdentity, type TempStore } from './fixtures.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
let db: TempStore;
beforeEach(() => void (db = tempStore()));
afterEach(() => db.close());

async function run(reconciler: Record<string, unknown> = {}, policies: unknown[] = POLICIES): Promise<RevocationReport> {
  const deps = testDeps(testConfig(reconciler, { policies }), db.store, NOW);
  const outcome = await reconcile(deps, { trigger: 'cli' });
  deps.close();
  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  return outcome.report;
}

const entry = (report: RevocationReport, id: string) => report.revocations.find((r) => r.token_id === id);

describe('expired tokens', () => {
  it('closes out a token past its expiry, on the record', async () => {
    const expired = await seedToken(db.store, NOW, { issuedAt: NOW - 2 * DAY, expiresAt: NOW - DAY });
    const report = await run();
    expect(entry(report, expired.id)).toMatchObject({ reason: 'expired', outcome: 'revoked' });
    expect(await db.store.getToken(expired.id)).toMatchObject({ revokedReason: 'expired', revokedBy: 'reconciler', revokedAt: NOW });
    const { records } = await db.store.queryAudit({ type: 'reconcile.revoke', session: expired.id });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ reason: 'expired', outcome: 'revoked', data: { report: report.id } });
    expect(report.summary.closed_expired).toBe(1);
    expect(report.summary.revoked).toBe(0);
  });

  it('leaves a live token alone', async () => {
    const live = await seedToken(db.store, NOW);
    const report = await run();
    expect(entry(report, live.id)).toBeUndefined();
    expect((await db.store.getToken(live.id))?.revokedAt).toBeUndefined();
  });
});

describe('stale tokens', () => {
  it('revokes a token never used since it was issued longer than stale_after ago', async () => {
    const idle = await seedToken(db.store, NOW, { issuedAt: NOW - 10 * DAY, expiresAt: NOW + 30 * DAY });
    const report = await run({ stale_after: '7d' });
    expect(entry(report, idle.id)).toMatchObject({ reason: 'stale', outcome: 'revoked' });
    expect((await db.store.getToken(idle.id))?.revokedReason).toBe('stale');
  });

  it('revokes a token whose last proxied request is older than stale_after', async () => {
    const idle = await seedToken(db.store, NOW, { issuedAt: NOW - 10 * DAY, expiresAt: NOW + 30 * DAY });
    await recordUse(db.store, idle, NOW - 8 * DAY);
    const report = await run({ stale_after: '7d' });
    expect(entry(report, idle.id)?.reason).toBe('stale');
  });

  it('keeps a token used within stale_after, and reports when it was last used', async () => {
    const busy = await seedToken(db.store, NOW, { issuedAt: NOW - 10 * DAY, expiresAt: NOW + 30 * DAY });
    await recordUse(db.store, busy, NOW - DAY);
    const young = await seedToken(db.store, NOW, { issuedAt: NOW - HOUR });
    const report = await run({ stale_after: '7d' });
    expect(entry(report, busy.id)).toBeUndefined();
    expect(entry(report, young.id)).toBeUndefined();
    expect((await db.store.getToken(busy.id))?.revokedAt).toBeUndefined();
  });
});

describe('policy drift', () => {
  it('revokes a token whose policy was removed', async () => {
    const orphan = await seedToken(db.store, NOW, { policy: 'retired-bot' });
    const report = await run();
    expect(entry(report, orphan.id)).toMatchObject({ reason: 'policy_removed', outcome: 'revoked' });
  });

  it('revokes a token holding a scope its policy no longer grants', async () => {
    const wide = await seedToken(db.store, NOW, { scopes: ['messages:create', 'skills:write'] });
    const report = await run();
    expect(entry(report, wide.id)).toMatchObject({ reason: 'policy_narrowed' });
    expect(entry(report, wide.id)?.detail).toContain('skills:write');
  });

  it('revokes a token whose identity the policy no longer admits (the owner id changed in the policy)', async () => {
    const token = await seedToken(db.store, NOW);
    const moved = [{ ...POLICIES[0], match: { repository_owner_id: '66' } }, POLICIES[1]];
    const report = await run({}, moved);
    expect(entry(report, token.id)).toMatchObject({ reason: 'policy_no_longer_matches' });
    expect(entry(report, token.id)?.detail).toContain('repository_owner_id');
  });

  it('keeps a token its policy still grants, and does not judge conditions on claims it did not keep', async () => {
    const { ref: _ref, ...withoutRef } = workflowIdentity();
    const token = await seedToken(db.store, NOW, { identity: withoutRef });
    const strict = [{ ...POLICIES[0], match: { repository_owner_id: '65', ref: 'refs/heads/main' } }, POLICIES[1]];
    const report = await run({}, strict);
    expect(entry(report, token.id)).toBeUndefined();
  });

  it('gives one revocation per token with every reason, the most definitive first', async () => {
    const both = await seedToken(db.store, NOW, { policy: 'retired-bot', issuedAt: NOW - 10 * DAY, expiresAt: NOW + 30 * DAY });
    const report = await run({ stale_after: '7d' });
    expect(report.revocations.filter((r) => r.token_id === both.id)).toHaveLength(1);
    expect(entry(report, both.id)).toMatchObject({ reason: 'policy_removed', also: [{ reason: 'stale' }] });
  });
});
