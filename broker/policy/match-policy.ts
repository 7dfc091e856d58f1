import { policyDenied, type BrokerError } from '../errors.ts';
import type { IssuerSpec } from '../exchange/issuers.ts';
import { DANGEROUS_EVENTS, DEFAULT_EVENTS, type CompiledPolicy } from './compile-policies.ts';
import { parseGithubSubject } from './github-subject.ts';
import type { ClaimMatcher } from './matcher.ts';

export type Claims = Readonly<Record<string, unknown>>;

/** Where one policy stopped matching. */
export interface Miss {
  policy: CompiledPolicy;
  claim: string;
  problem: 'missing' | 'mismatch' | 'wrong_type';
  /** How many of the policy's identity matchers passed, to find the closest policy. */
  identityMatched: number;
  inIdentity: boolean;
}

const REASON_BY_CLAIM: Record<string, string> = {
  event_name: 'event_not_allowed',
  ref: 'ref_not_allowed',
  ref_type: 'ref_not_allowed',
  base_ref: 'ref_not_allowed',
  head_ref: 'ref_not_allowed',
  workflow: 'workflow_not_allowed',
  workflow_ref: 'workflow_not_allowed',
  workflow_sha: 'workflow_not_allowed',
  job_workflow_ref: 'workflow_not_allowed',
  job_workflow_sha: 'workflow_not_allowed',
  runner_environment: 'runner_not_allowed',
  environment: 'environment_required',
};

/**
 * `matchPolicy` returns the first policy of the token's issuer whose identity and conditions all
 * match, or throws a 403 `policy_denied` that names the closest policy, the claim that failed and
 * what would fix it. Expected values from the policy are never echoed; the token's own are.
 */
export function matchPolicy(claims: Claims, issuer: IssuerSpec, policies: readonly CompiledPolicy[]): CompiledPolicy {
  const misses: Miss[] = [];
  for (const policy of policies) {
    if (policy.issuer !== issuer) continue;
    const miss = evaluatePolicy(policy, claims);
    if (!miss) return policy;
    misses.push(miss);
  }
  throw explain(misses, claims, issuer);
}

/** `evaluatePolicy` returns where a policy stops matching the claims, or undefined when it matches. */
export function evaluatePolicy(policy: CompiledPolicy, claims: Claims): Miss | undefined {
  // All identity matchers are checked so a partial match (say, a transferred repository) is told apart.
  let identityMatched = 0;
  let identityMiss: Omit<Miss, 'identityMatched'> | undefined;
  for (const m of policy.identity) {
    const problem = check(m, claims, policy.issuer);
    if (!problem) identityMatched++;
    else identityMiss ??= { policy, claim: m.claim, problem, inIdentity: true };
  }
  if (identityMiss) return { ...identityMiss, identityMatched };
  for (const m of policy.conditions) {
    const problem = check(m, claims, policy.issuer);
    if (problem) return { policy, claim: m.claim, problem, identityMatched, inIdentity: false };
  }
  return undefined;
}

/** Absent claim ⇒ deny; only strings (and booleans as "true"/"false") compare; arrays only for IdP tokens. */
function check(m: ClaimMatcher, claims: Claims, issuer: IssuerSpec): Miss['problem'] | undefined {
  const value = claims[m.claim];
  if (value === undefined || value === null) return 'missing';
  if (typeof value === 'boolean') return m.test(String(value)) ? undefined : 'mismatch';
  if (typeof value === 'string') {
    if (m.test(value)) return undefined;
    // A policy written with the legacy sub grammar also matches the same subject in the immutable one.
    if (m.claim === 'sub' && issuer.kind === 'github') {
      const legacy = parseGithubSubject(value)?.legacy;
      if (legacy !== undefined && m.test(legacy)) return undefined;
    }
    return 'mismatch';
  }
  if (Array.isArray(value) && issuer.kind === 'oidc' && value.every((v) => typeof v === 'string')) {
    return value.some((v) => m.test(v)) ? undefined : 'mismatch';
  }
  return 'wrong_type';
}

function explain(misses: Miss[], claims: Claims, issuer: IssuerSpec): BrokerError {
  const who = describeIdentity(claims, issuer);
  const event = issuer.kind === 'github' ? ` on event ${quote(claims['event_name'])}` : '';
  // The closest policy: one whose identity matched fully, else one whose identity matched in part.
  const closest =
    misses.find((m) => !m.inIdentity) ?? misses.filter((m) => m.identityMatched > 0).sort((a, b) => b.identityMatched - a.identityMatched)[0];
  if (!closest) {
    return policyDenied(
      'no_matching_policy',
      `no policy for issuer ${issuer.name} matches ${who}${event}; add a trust policy that binds this identity, ` +
        `or check that the job runs where you expect`,
      { issuer: issuer.name },
    );
  }
  const { policy, claim, problem } = closest;
  const has = problem === 'missing' ? `the token has no ${claim} claim` : `the token has ${claim} ${quote(claims[claim])}`;
  if (closest.inIdentity) {
    return policyDenied(
      'identity_mismatch',
      `policy ${policy.name} binds ${who} only in part: ${has}. Names can be reused after a rename or transfer; ` +
        `policies bind numeric ids, so update the ids in the policy if the move is expected`,
      { policy: policy.name, claim },
    );
  }
  const reason = claim === 'environment' && problem !== 'missing' ? 'no_matching_policy' : (REASON_BY_CLAIM[claim] ?? 'no_matching_policy');
  return policyDenied(reason, `policy ${policy.name} matches ${who} but not its ${claim}: ${has}${typeNote(problem)}. ${hint(policy, claim, claims)}`, {
    policy: policy.name,
    claim,
  });
}

function hint(policy: CompiledPolicy, claim: string, claims: Claims): string {
  const value = claims[claim];
  if (claim === 'event_name' && typeof value === 'string') {
    if (DANGEROUS_EVENTS.has(value)) {
      return `${value} runs untrusted input with the base branch's identity, so it is refused unless a policy lists it under match.event_name`;
    }
    const explicit = policy.conditions.find((m) => m.claim === 'event_name')?.exact;
    if (explicit === DEFAULT_EVENTS) {
      return `policy ${policy.name} sets no event_name, so only ${DEFAULT_EVENTS.join(', ')} are admitted; list ${value} under match.event_name to allow it`;
    }
  }
  if (claim === 'environment' && value === undefined) return 'run the job in a GitHub environment (jobs.<id>.environment) that the policy names';
  return `run the job where policy ${policy.name} expects it, or change the policy's match.${claim}`;
}

function typeNote(problem: Miss['problem']): string {
  return problem === 'wrong_type' ? ' (claims are compared as strings; this one has another type)' : '';
}

function describeIdentity(claims: Claims, issuer: IssuerSpec): string {
  if (issuer.kind === 'github') {
    return `repository_id ${quote(claims['repository_id'])} (${quote(claims['repository'])}, owner id ${quote(claims['repository_owner_id'])})`;
  }
  return `sub ${quote(claims['sub'])}`;
}

/** Claim values go into messages JSON-quoted and cut short, so they cannot forge log lines. */
function quote(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
