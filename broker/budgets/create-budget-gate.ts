import { ProxyError } from '../proxy/proxy-error.ts';
import type { BudgetGate, BudgetReservation } from './budget-gate.ts';
import { budgetExhausted } from './budget-refusal.ts';
import { measureNeed } from './measure-need.ts';
import { resolveBudgets } from './resolve-budgets.ts';
import { openSqliteBudgets } from './sqlite-budgets.ts';

export interface BudgetGateOptions {
  /** The broker's SQLite file (the gate opens its own connection), or ':memory:'. */
  storePath: string;
  now: () => number;
  busyTimeoutMs?: number;
  /** Told when a settle could not be written; the hold then stays spent (fails closed). */
  onSettleError?: (err: Error) => void;
}

const FREE: BudgetReservation = { settle: async () => undefined };

/**
 * `createBudgetGate` returns the budget stage backed by SQLite: a request of a budgeted policy
 * holds its pessimistic need before forwarding (429 `budget_exhausted` when a budget has no room)
 * and settles to its real usage after. A store that cannot be read refuses with 503: a budget
 * that cannot be checked is not skipped.
 */
export function createBudgetGate(opts: BudgetGateOptions): BudgetGate & { close(): void } {
  const ledger = openSqliteBudgets(opts.storePath, opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs });

  return {
    reserve: async ({ token, grant, route, body }) => {
      const budgets = resolveBudgets(grant.budget);
      const need = budgets && measureNeed(route, body);
      if (budgets === undefined || need === undefined) return FREE;
      let outcome;
      try {
        outcome = ledger.hold({ tokenId: token.id, tokenExpiresAt: token.expiresAt, policy: token.policy, at: opts.now(), need, budgets });
      } catch {
        throw new ProxyError(503, 'api_error', 'budget_unavailable', 'budgets cannot be checked right now (the store is unavailable); nothing was forwarded. Retry later');
      }
      if ('refusal' in outcome) throw budgetExhausted(outcome.refusal, { tokenId: token.id, policy: token.policy });
      const holdId = outcome.holdId;
      let settled = false;
      return {
        settle: async (usage) => {
          if (settled) return;
          settled = true;
          try {
            ledger.settle(holdId, usage);
          } catch (err) {
            opts.onSettleError?.(err as Error);
          }
        },
      };
    },
    close: () => ledger.close(),
  };
}
