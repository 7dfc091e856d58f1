import { formatDuration } from '../config/duration.ts';
import { ProxyError } from '../proxy/proxy-error.ts';
import type { Counter } from './measure-need.ts';
import type { Refusal } from './sqlite-budgets.ts';

const CONFIG_NAME: Record<Counter, string> = { requests: 'requests', inputTokens: 'input_tokens', outputTokens: 'output_tokens' };

/**
 * `budgetExhausted` is the 429 `rate_limit_error` of a spent budget. It names the budget, the
 * counter and its limit, and says when it refills; the proxy adds `x-should-retry: false`, so
 * SDKs raise at once instead of retrying into the same wall.
 */
export function budgetExhausted(r: Refusal, who: { tokenId: string; policy: string }): ProxyError {
  const name = CONFIG_NAME[r.counter];
  const held = r.held > 0 ? `; ${r.held} of it held by requests still running` : '';
  const state =
    r.scope === 'token'
      ? `token ${who.tokenId} has used ${r.used} of its ${r.limit} ${name} (per-token budget, for the token's whole life${held})`
      : `policy ${who.policy} has used ${r.used} of its ${r.limit} ${name} in the last ${formatDuration(r.windowSec)} (per-policy budget, shared by all its tokens${held})`;
  const key = `grant.budget.${r.scope === 'token' ? 'per_token' : 'per_policy'}.${name}`;
  return new ProxyError(429, 'rate_limit_error', 'budget_exhausted', `budget exhausted: ${state}. ${refill(r, name, key)}`);
}

function refill(r: Refusal, name: string, key: string): string {
  if (r.tooLarge) return `This batch needs ${r.needed} ${name}, more than the whole budget: split it, or ask an operator to raise ${key}.`;
  if (r.scope === 'token') return `It never refills — exchange a new token, or ask an operator to raise ${key}.`;
  return r.refillAt === undefined ? 'It refills as older requests leave the window.' : `It refills at ${new Date(r.refillAt).toISOString()}.`;
}
