import type { TokenRecord } from '../store/store.ts';
import { principalOf, type CheckResult, type Inventory } from './findings.ts';
import { TOKEN_REASON_CODES, type TokenReason } from './reasons.ts';
import { checkSafetyBrake, type BrakeVerdict } from './safety-brake.ts';

/** What a run means to do with one token: every reason found, the most definitive first. */
export interface TokenDecision {
  token: TokenRecord;
  reasons: { reason: TokenReason; detail: string }[];
  /** `held`: the safety brake stopped it. Expired tokens are always closed out. */
  action: 'revoke' | 'held';
}

export interface RevocationPlan {
  decisions: TokenDecision[];
  brake: BrakeVerdict;
}

/**
 * `planRevocations` merges the checks' findings per token and puts them to the safety brake,
 * which counts principals (people and actors), not tokens: one departure with fifty tokens is
 * one principal. Closing out expired tokens cuts nobody off, so it never counts and never waits.
 */
export function planRevocations(inv: Inventory, results: readonly CheckResult[], safety: { maxShare: number; floor: number }): RevocationPlan {
  const byToken = new Map<string, TokenDecision>();
  for (const finding of results.flatMap((r) => r.findings)) {
    const decision = byToken.get(finding.token.id) ?? { token: finding.token, reasons: [], action: 'revoke' as const };
    decision.reasons.push({ reason: finding.reason, detail: finding.detail });
    byToken.set(finding.token.id, decision);
  }
  const decisions = [...byToken.values()];
  for (const d of decisions) d.reasons.sort((a, b) => TOKEN_REASON_CODES.indexOf(a.reason) - TOKEN_REASON_CODES.indexOf(b.reason));
  const cutting = decisions.filter((d) => d.reasons[0]!.reason !== 'expired');
  const population = new Set(inv.active.map(principalOf)).size;
  const brake = checkSafetyBrake('principals holding active tokens', new Set(cutting.map((d) => principalOf(d.token))).size, population, safety);
  if (brake.tripped) for (const d of cutting) d.action = 'held';
  return { decisions, brake };
}
