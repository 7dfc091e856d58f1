import { recordEvent } from '../audit/record-event.ts';
import type { Store } from '../store/store.ts';
import type { KeyFinding } from './checks/api-keys.ts';
import type { BrakeVerdict } from './safety-brake.ts';
import { AdminApiError, type AdminApi } from './sources/admin-api.ts';

export type KeyOutcome = 'flagged' | 'deactivated' | 'would_deactivate' | 'held' | 'exempt' | 'failed';

export interface KeyAction {
  finding: KeyFinding;
  outcome: KeyOutcome;
  error?: string;
}

/**
 * `applyKeyActions` decides and carries out what happens to each flagged key: only with
 * `enforce: true`, outside a dry run and under the safety brake is a key set `inactive` (which an
 * admin can undo); otherwise it is flagged. Exempt keys are never touched. Every outcome but a
 * dry run's is recorded in the audit trail.
 */
export async function applyKeyActions(
  api: AdminApi | undefined,
  findings: readonly KeyFinding[],
  ctx: { store: Store; reportId: string; now: number; enforce: boolean; dryRun: boolean; brake: BrakeVerdict },
): Promise<KeyAction[]> {
  const actions: KeyAction[] = [];
  for (const finding of findings) {
    const action = await act(api, finding, ctx);
    actions.push(action);
    if (ctx.dryRun) continue;
    const { key, reasons } = finding;
    await recordEvent(ctx.store, {
      type: action.outcome === 'deactivated' ? 'reconcile.revoke' : 'reconcile.flag',
      at: ctx.now,
      outcome: action.outcome,
      reason: reasons[0]!.reason,
      data: { report: ctx.reportId, api_key_id: key.id, name: key.name, detail: reasons[0]!.detail, also: reasons.slice(1).map((r) => r.reason), by: 'reconciler', ...(finding.exempt !== undefined && { exempt: finding.exempt }), ...(action.error !== undefined && { error: action.error }) },
    });
  }
  return actions;
}

async function act(api: AdminApi | undefined, finding: KeyFinding, ctx: { enforce: boolean; dryRun: boolean; brake: BrakeVerdict }): Promise<KeyAction> {
  if (finding.exempt !== undefined) return { finding, outcome: 'exempt' };
  if (!ctx.enforce) return { finding, outcome: 'flagged' };
  if (ctx.brake.tripped) return { finding, outcome: 'held' };
  if (ctx.dryRun || !api) return { finding, outcome: 'would_deactivate' };
  try {
    await api.deactivate(finding.key.id);
    return { finding, outcome: 'deactivated' };
  } catch (err) {
    if (!(err instanceof AdminApiError)) throw err;
    return { finding, outcome: 'failed', error: err.message };
  }
}
