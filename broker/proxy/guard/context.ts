import type { Grant } from '../../policy/grant.ts';
import { invalidProxyRequest, permissionDenied, type ProxyError } from '../proxy-error.ts';

/** What every guard rule reads: the effective grant and the name of the policy it came from. */
export interface GuardContext {
  grant: Grant;
  policyName: string;
  /** Where in the body the checked value sits (`requests[3].params.`), so a batch denial names its item. */
  at: string;
}

/**
 * `refuse` builds the 403 every guard rule throws. The message names the policy, the grant field
 * that decided and what would allow the request, in that order, so a CI log line is enough to fix
 * the policy or the job. Callers pass only request values and policy values, never secrets.
 */
export function refuse(ctx: GuardContext, reason: string, what: string, rule: string, fix: string): ProxyError {
  return permissionDenied(reason, `${ctx.at}${what} is not allowed by policy "${ctx.policyName}" (${rule}); ${fix}`);
}

/** `badField` is the 400 for a value of the wrong shape: the upstream could read it differently than the guard did. */
export function badField(ctx: GuardContext, field: string, expected: string): ProxyError {
  return invalidProxyRequest('invalid_field', `${ctx.at}${field} must be ${expected}`);
}

/** `unknownField` is the 400 for a key outside a positive schema (C-27): the guard only forwards what it has read. */
export function unknownField(ctx: GuardContext, field: string, known: Iterable<string>): ProxyError {
  return invalidProxyRequest('unknown_field', `${ctx.at}${quote(field)} is not a field skillgate can check; known fields: ${[...known].join(', ') || 'none'}`);
}

/** A request value for a message: JSON-quoted (no control characters reach a log line) and cut short. */
export const quote = (value: string): string => JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses any key of `obj` outside `known`. */
export function onlyKnownKeys(obj: Record<string, unknown>, known: ReadonlySet<string>, ctx: GuardContext, prefix = ''): void {
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) throw unknownField(ctx, `${prefix}${key}`, known);
  }
}
