// The budget stage's contract. Semantics (the SQLite implementation is `sqlite-budgets.ts`):
//
// - Two budgets, each with three counters (`requests`, `input_tokens`, `output_tokens`):
//   the per-token budget covers a token's whole life and never refills; the per-policy budget is
//   a rolling window (`grant.budget.window`, default 1h) shared by every token of the policy.
//   The flat `grant.budget` counters set both; `per_token` / `per_policy` override one of them.
// - Only model calls are budgeted: `POST /v1/messages` holds 1 request + an input estimate
//   (UTF-8 bytes of the body / 4) + `max_tokens` (the largest of it and its fallbacks');
//   `count_tokens` holds 1 request and no tokens; a batch holds the sum over its items.
// - A request is admitted while every counter it needs has room left (used < limit, where
//   used counts the holds of requests still in flight), as if a batch's items were sent one
//   by one, smallest first. So a counter is overshot by at most one item's hold: never for
//   `requests`, at most one `max_tokens` for output tokens, whatever the concurrency.
// - `settle` replaces the token holds with the real usage; without usage the holds stay spent.

import type { Grant } from '../policy/grant.ts';
import type { ClassifiedRequest } from '../proxy/operation.ts';
import type { TokenRecord } from '../store/store.ts';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface BudgetInput {
  token: TokenRecord;
  grant: Grant;
  route: ClassifiedRequest;
  body: Record<string, unknown> | undefined;
}

/** A pessimistic hold on a budget, settled with the real usage when the response ends. */
export interface BudgetReservation {
  /** `usage` undefined when unknown (upstream error, abort): the hold is then kept as spent. */
  settle(usage: Usage | undefined): Promise<void>;
}

/** The budget stage: reserves before forwarding; throws a ProxyError 429 rate_limit_error when a budget is spent. */
export interface BudgetGate {
  reserve(input: BudgetInput): Promise<BudgetReservation>;
}

/** `unlimited` is the gate for brokers or policies without budgets. */
export const unlimited: BudgetGate = { reserve: async () => ({ settle: async () => undefined }) };
