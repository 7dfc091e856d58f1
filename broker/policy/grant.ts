import type { GrantConfig, Scope } from '../config/schema.ts';
import { parseDuration } from '../config/duration.ts';
import { SCOPES } from '../config/schema.ts';

/** What a token may do. Comes from the matched policy; a request may only narrow it. */
export interface Grant {
  scopes: Scope[];
  models?: string[];
  skills?: string[];
  tools?: Record<string, 'allow' | 'deny'>;
  mcpServers?: string[];
  maxTokens?: number;
  ttlSec: number;
  /** Flat counters apply per token and per policy window; `perToken` / `perPolicy` override one side (`broker/budgets`). */
  budget?: BudgetCounts & { windowSec?: number; perToken?: BudgetCounts; perPolicy?: BudgetCounts };
  /** `uses`: identical requests one approval lets through; `validForSec`: how long an approval stays usable. */
  approval?: { for: string[]; approvers: string[]; mode: 'hold' | 'refuse'; waitSec: number; uses: number; validForSec: number };
  masking?: { patterns: { name: string; regex: string }[]; values: string[] };
}

/** Limits of one budget; an absent counter is unlimited. */
export interface BudgetCounts {
  requests?: number;
  inputTokens?: number;
  outputTokens?: number;
}

/** `compileGrant` converts the config form (snake_case, durations) into the runtime Grant. */
export function compileGrant(g: GrantConfig, at: string, problems: string[]): Grant {
  for (const [i, p] of (g.masking?.patterns ?? []).entries()) {
    try {
      new RegExp(p.regex, 'gu');
    } catch (err) {
      problems.push(`${at}.masking.patterns[${i}].regex: invalid regular expression (${(err as Error).message})`);
    }
  }
  const b = g.budget;
  const a = g.approval;
  return {
    scopes: [...g.scopes],
    ...(g.models && { models: g.models }),
    ...(g.skills && { skills: g.skills }),
    ...(g.tools && { tools: g.tools }),
    ...(g.mcp_servers && { mcpServers: g.mcp_servers }),
    ...(g.max_tokens !== undefined && { maxTokens: g.max_tokens }),
    ttlSec: parseDuration(g.ttl),
    ...(b && {
      budget: {
        ...compileBudgetCounts(b),
        ...(b.window !== undefined && { windowSec: parseDuration(b.window) }),
        ...(b.per_token && { perToken: compileBudgetCounts(b.per_token) }),
        ...(b.per_policy && { perPolicy: compileBudgetCounts(b.per_policy) }),
      },
    }),
    ...(a && {
      approval: { for: a.for, approvers: a.approvers, mode: a.mode ?? 'refuse', waitSec: parseDuration(a.wait ?? '2m'), uses: a.uses ?? 1, validForSec: parseDuration(a.valid_for ?? '1h') },
    }),
    ...(g.masking && { masking: { patterns: g.masking.patterns ?? [], values: g.masking.values ?? [] } }),
  };
}

function compileBudgetCounts(c: { requests?: number; input_tokens?: number; output_tokens?: number }): BudgetCounts {
  return {
    ...(c.requests !== undefined && { requests: c.requests }),
    ...(c.input_tokens !== undefined && { inputTokens: c.input_tokens }),
    ...(c.output_tokens !== undefined && { outputTokens: c.output_tokens }),
  };
}

/** Why a request could not narrow the grant. */
export class NarrowingError extends Error {
  constructor(
    readonly reason: 'unknown_scope' | 'scope_exceeds_grant' | 'invalid_ttl',
    message: string,
  ) {
    super(message);
  }
}

/**
 * `narrowGrant` applies a request's `scope` (space-separated) and `requested_ttl` (seconds) to a
 * policy's grant. It can only remove scopes and shorten the TTL; asking for more is an error,
 * not a silent cut, so a job learns at once that its policy does not allow what it expects.
 */
export function narrowGrant(grant: Grant, scope: string | undefined, requestedTtlSec: number | undefined): Grant {
  let scopes = grant.scopes;
  if (scope !== undefined && scope.trim() !== '') {
    const asked = [...new Set(scope.trim().split(/\s+/))];
    const unknown = asked.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      throw new NarrowingError('unknown_scope', `unknown scope ${unknown.join(', ')}; scopes are: ${SCOPES.join(', ')}`);
    }
    const extra = asked.filter((s) => !grant.scopes.includes(s as Scope));
    if (extra.length > 0) {
      throw new NarrowingError(
        'scope_exceeds_grant',
        `scope ${extra.join(', ')} is not in the policy's grant; request a subset of the granted scopes or ask an operator to widen the policy`,
      );
    }
    scopes = asked as Scope[];
  }
  let ttlSec = grant.ttlSec;
  if (requestedTtlSec !== undefined) {
    if (!Number.isSafeInteger(requestedTtlSec) || requestedTtlSec <= 0) {
      throw new NarrowingError('invalid_ttl', 'requested_ttl must be a positive whole number of seconds');
    }
    ttlSec = Math.min(ttlSec, requestedTtlSec);
  }
  return { ...grant, scopes, ttlSec };
}
