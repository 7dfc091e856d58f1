import type { CompiledPolicy } from '../../policy/compile-policies.ts';
import { evaluatePolicy } from '../../policy/match-policy.ts';
import type { TokenRecord } from '../../store/store.ts';
import type { CheckResult, Finding, Inventory } from '../findings.ts';

/**
 * `checkPolicyDrift` holds every active token against the policies loaded now: a token whose
 * policy was removed, no longer admits the identity it was minted for, or no longer grants one of
 * its scopes is revoked. Only claims the token kept are re-checked; a condition on a claim it did
 * not keep cannot be judged and is left alone.
 */
export function checkPolicyDrift(inv: Inventory, policies: readonly CompiledPolicy[]): CheckResult {
  const byName = new Map(policies.map((p) => [p.name, p]));
  const findings: Finding[] = [];
  for (const token of inv.active) {
    const finding = judge(token, byName.get(token.policy));
    if (finding) findings.push(finding);
  }
  return { check: 'policy_drift', checked: inv.active.length, findings, notes: [] };
}

function judge(token: TokenRecord, policy: CompiledPolicy | undefined): Finding | undefined {
  if (!policy) return { token, reason: 'policy_removed', detail: `policy ${token.policy} is no longer configured` };
  if (policy.issuer.name !== token.issuer) {
    return { token, reason: 'policy_no_longer_matches', detail: `policy ${policy.name} now trusts issuer ${policy.issuer.name}, the token came from ${token.issuer}` };
  }
  const claims = token.identity as unknown as Record<string, unknown>;
  const kept = (m: { claim: string }) => claims[m.claim] !== undefined;
  const miss = evaluatePolicy({ ...policy, identity: policy.identity.filter(kept), conditions: policy.conditions.filter(kept) }, claims);
  if (miss) {
    return { token, reason: 'policy_no_longer_matches', detail: `policy ${policy.name} no longer admits the token's ${miss.claim} ${JSON.stringify(claims[miss.claim])}` };
  }
  const lost = token.scopes.filter((s) => !policy.grant.scopes.includes(s));
  if (lost.length > 0) return { token, reason: 'policy_narrowed', detail: `policy ${policy.name} no longer grants ${lost.join(', ')}` };
  return undefined;
}
