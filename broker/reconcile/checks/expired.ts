import type { CheckResult, Inventory } from '../findings.ts';

/**
 * `checkExpired` closes out tokens past their expiry. They already fail authentication; closing
 * them keeps the open set (what every later run reads) small and puts the end on the record.
 */
export function checkExpired(inv: Inventory): CheckResult {
  return {
    check: 'expired',
    checked: inv.expired.length,
    findings: inv.expired.map((token) => ({ token, reason: 'expired', detail: `expired at ${new Date(token.expiresAt).toISOString()}` })),
    notes: [],
  };
}
