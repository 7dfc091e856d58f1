import type { AuditRecord } from '../audit/audit-record.ts';
import { identityFields, recordEvent } from '../audit/record-event.ts';
import type { Store } from '../store/store.ts';
import type { TokenDecision } from './plan-revocations.ts';

export type TokenOutcome = 'revoked' | 'would_revoke' | 'held' | 'already_revoked';

export interface AppliedDecision extends TokenDecision {
  outcome: TokenOutcome;
}

/** Revocations per group commit of the audit trail. */
const CHUNK = 500;

/**
 * `applyRevocations` revokes each planned token and records why. `revokeToken` bumps the store's
 * revocation epoch, so the proxy refuses the token on its next request on every replica. A token
 * someone else revoked meanwhile is reported as such, not revoked twice. A dry run changes
 * nothing and writes nothing.
 */
export async function applyRevocations(store: Store, decisions: readonly TokenDecision[], ctx: { reportId: string; now: number; dryRun: boolean }): Promise<AppliedDecision[]> {
  if (ctx.dryRun) return decisions.map((d) => ({ ...d, outcome: d.action === 'held' ? 'held' : 'would_revoke' }));
  const applied: AppliedDecision[] = [];
  for (let i = 0; i < decisions.length; i += CHUNK) {
    const records: AuditRecord[] = [];
    for (const d of decisions.slice(i, i + CHUNK)) {
      const [primary, ...also] = d.reasons;
      const base = { at: ctx.now, session: d.token.id, ...identityFields(d.token.identity), reason: primary!.reason };
      const data = { report: ctx.reportId, policy: d.token.policy, detail: primary!.detail, also: also.map((r) => r.reason), by: 'reconciler' };
      if (d.action === 'held') {
        applied.push({ ...d, outcome: 'held' });
        records.push({ ...base, type: 'reconcile.flag', outcome: 'held', data: { ...data, held_by: 'safety_brake' } });
      } else if (await store.revokeToken(d.token.id, primary!.reason, 'reconciler', ctx.now)) {
        applied.push({ ...d, outcome: 'revoked' });
        records.push({ ...base, type: 'reconcile.revoke', outcome: 'revoked', data });
      } else {
        applied.push({ ...d, outcome: 'already_revoked' });
      }
    }
    // Appended together, they commit as one group instead of one transaction each.
    await Promise.all(records.map((r) => recordEvent(store, r)));
  }
  return applied;
}
