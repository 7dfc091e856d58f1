import { formatDuration } from '../../config/duration.ts';
import type { CheckResult, Finding, Inventory } from '../findings.ts';

/**
 * `checkStale` revokes active tokens with no proxied request for `staleAfterSec`. A token issued
 * less than that long ago is never stale, so a job that has not made its first call is left alone.
 */
export function checkStale(inv: Inventory, staleAfterSec: number): CheckResult {
  const windowStart = inv.now - staleAfterSec * 1000;
  const findings: Finding[] = [];
  for (const token of inv.active) {
    if (token.issuedAt > windowStart || inv.lastUsed.has(token.id)) continue;
    findings.push({
      token,
      reason: 'stale',
      detail: `no proxied request in the last ${formatDuration(staleAfterSec)} (since ${new Date(windowStart).toISOString()}); issued ${new Date(token.issuedAt).toISOString()}`,
    });
  }
  return { check: 'stale', checked: inv.active.length, findings, notes: [] };
}
