// Shared by the budget tests and their child processes: a gate on a temp SQLite file, grants in
// config form, tokens, and requests classified by the real classifier.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BudgetReservation } from '../../broker/budgets/budget-gate.ts';
import { createBudgetGate } from '../../broker/budgets/create-budget-gate.ts';
import type { GrantConfig } from '../../broker/config/schema.ts';
import { compileGrant, type Grant } from '../../broker/policy/grant.ts';
import { classifyRequest } from '../../broker/proxy/classify.ts';
import { ProxyError } from '../../broker/proxy/proxy-error.ts';
import type { TokenRecord } from '../../broker/store/store.ts';

export type Gate = ReturnType<typeof createBudgetGate>;
export const T0 = Date.parse('2026-03-01T12:00:00.000Z');

export const tempDbPath = () => join(mkdtempSync(join(tmpdir(), 'skillgate-budgets-')), 'skillgate.db');

/** A grant as an operator writes it: `budget` in config form (snake_case, durations). */
export function grantWith(budget: GrantConfig['budget']): Grant {
  const problems: string[] = [];
  const grant = compileGrant({ scopes: ['messages:create', 'models:read', 'batches:write'], ttl: '1h', ...(budget && { budget }) } as GrantConfig, 'grant', problems);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return grant;
}

export function tokenOf(id: string, policy = 'ci', expiresAt = T0 + 3_600_000): TokenRecord {
  return { id, tokenHash: `hash-${id}`, policy, issuer: 'actions', scopes: ['messages:create'], identity: { iss: 'x', sub: 'y' }, issuedAt: T0, expiresAt };
}

export const message = (maxTokens: number, extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-5',
  max_tokens: maxTokens,
  messages: [{ role: 'user', content: 'hello' }],
  ...extra,
});

export const batch = (...items: Record<string, unknown>[]) => ({ requests: items.map((params, i) => ({ custom_id: `item-${i}`, params })) });

/** Reserves `body` on `target` (`POST /v1/messages` unless named) with the real classifier. */
export function reserve(gate: Gate, token: TokenRecord, grant: Grant, body?: Record<string, unknown>, target = 'POST /v1/messages'): Promise<BudgetReservation> {
  const [method, path] = target.split(' ') as [string, string];
  return gate.reserve({ token, grant, route: classifyRequest(method, path, {}), body });
}

/** The budget refusal a reservation ended with; fails the test on anything else. */
export async function refusalOf(attempt: Promise<unknown>): Promise<ProxyError> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ProxyError)) throw new Error(`expected a ProxyError, got ${String(err)}`);
  return err;
}
