import type { TokenRecord } from '../../store/store.ts';
import { isWorkflowToken, type CheckResult, type Finding, type Inventory, type SourceStatus } from '../findings.ts';
import type { Directory } from '../sources/directory.ts';

/**
 * `checkIdpAccounts` revokes a person's token when the directory no longer has an active account
 * by the token's `claim` (email or sub). Tokens without that claim cannot be judged and are noted.
 */
export function checkIdpAccounts(inv: Inventory, input: { directory?: Directory; source: SourceStatus; claim: 'email' | 'sub'; issuers: readonly string[] }): CheckResult {
  const issuers = new Set(input.issuers);
  const people = inv.active.filter((t: TokenRecord) => issuers.has(t.issuer) && !isWorkflowToken(t));
  const judged = people.filter((t) => t.identity[input.claim] !== undefined);
  const notes = people.length > judged.length ? [`${people.length - judged.length} tokens carry no ${input.claim} claim and were not judged`] : [];
  const findings: Finding[] = [];
  if (input.directory && input.source.status === 'ok') {
    for (const token of judged) {
      const name = token.identity[input.claim]!;
      if (!input.directory.has(name.toLowerCase())) findings.push({ token, reason: 'idp_account_gone', detail: `no active directory account for ${input.claim} ${name}` });
    }
  }
  return { check: 'idp', checked: judged.length, findings, source: input.source, notes };
}
