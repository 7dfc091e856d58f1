import type { TokenRecord } from '../store/store.ts';
import type { SourceName, TokenReason } from './reasons.ts';

/** One reason one token should stop working, as a check found it. */
export interface Finding {
  token: TokenRecord;
  reason: TokenReason;
  /** For the report reader: what exactly was seen, e.g. `actor octocat (id 583231) is in none of octo-org`. */
  detail: string;
}

/**
 * How an outside source answered. `failed` (an error) and `implausible` (an answer no healthy
 * source gives, such as an empty member list) both mean: nothing is revoked on its word.
 */
export interface SourceStatus {
  name: SourceName;
  status: 'ok' | 'failed' | 'implausible';
  detail: string;
  /** HTTP requests spent on it (pages included). */
  calls: number;
}

/** What one check reports: how many tokens it judged and what it found. */
export interface CheckResult {
  check: string;
  /** Tokens (or keys) the check looked at. */
  checked: number;
  findings: Finding[];
  /** The outside source it relied on, if any. */
  source?: SourceStatus;
  /** Why the check did not run or what it could not judge (not configured, unreadable claims). */
  notes: string[];
}

/** Tokens as a run sees them: one read of the store, split by state, with their last use. */
export interface Inventory {
  now: number;
  /** Neither revoked nor expired. */
  active: TokenRecord[];
  /** Expired but not yet closed out. */
  expired: TokenRecord[];
  /** Token id → latest proxied request within the stale window (absent: none in the window). */
  lastUsed: ReadonlyMap<string, number>;
}

/**
 * `principalOf` names who a token acts for, so the safety brake counts people rather than
 * tokens: the GitHub actor (by immutable id when known) for a workflow, the IdP subject otherwise.
 */
export function principalOf(token: TokenRecord): string {
  const { actor_id, actor, iss, sub } = token.identity;
  if (actor_id !== undefined) return `github:${actor_id}`;
  if (actor !== undefined) return `github:@${actor.toLowerCase()}`;
  return `${iss}#${sub}`;
}

/** `isWorkflowToken` tells a CI job's token (bound to a repository) from a person's IdP token. */
export function isWorkflowToken(token: TokenRecord): boolean {
  return token.identity.repository_id !== undefined || token.identity.actor !== undefined;
}
