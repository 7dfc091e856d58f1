import type { BudgetCounts, Grant } from '../policy/grant.ts';

/** The per-policy window when `grant.budget.window` is not set. */
export const DEFAULT_WINDOW_SEC = 3600;

/** The two budgets a grant sets; an absent side (or counter) is unlimited. */
export interface Budgets {
  /** Over the token's whole life. */
  perToken?: BudgetCounts;
  /** Over all tokens of the policy, in the rolling window. */
  perPolicy?: BudgetCounts;
  windowSec: number;
}

/**
 * `resolveBudgets` reads `grant.budget`: the flat counters are the default of both sides and
 * `perToken` / `perPolicy` override them counter by counter. Undefined when nothing is limited,
 * so an unbudgeted policy costs no store write.
 */
export function resolveBudgets(budget: Grant['budget']): Budgets | undefined {
  if (budget === undefined) return undefined;
  const flat = pick(budget);
  const perToken = { ...flat, ...pick(budget.perToken ?? {}) };
  const perPolicy = { ...flat, ...pick(budget.perPolicy ?? {}) };
  const resolved: Budgets = {
    ...(Object.keys(perToken).length > 0 && { perToken }),
    ...(Object.keys(perPolicy).length > 0 && { perPolicy }),
    windowSec: budget.windowSec ?? DEFAULT_WINDOW_SEC,
  };
  return resolved.perToken || resolved.perPolicy ? resolved : undefined;
}

function pick(c: BudgetCounts): BudgetCounts {
  return {
    ...(c.requests !== undefined && { requests: c.requests }),
    ...(c.inputTokens !== undefined && { inputTokens: c.inputTokens }),
    ...(c.outputTokens !== undefined && { outputTokens: c.outputTokens }),
  };
}
