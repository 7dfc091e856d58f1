import type { PolicyConfig } from '../config/schema.ts';
import type { IssuerSpec } from '../exchange/issuers.ts';
import { compileGrant, type Grant } from './grant.ts';
import { compileMatcher, type ClaimMatcher } from './matcher.ts';

/** Events a GitHub policy admits when it does not name event_name at all. */
export const DEFAULT_EVENTS = ['push', 'workflow_dispatch', 'schedule', 'release'] as const;

/**
 * Events whose tokens look like trusted ones (ref and workflow_ref name the base branch) while
 * running code or input from outside: admitted only when a policy lists them verbatim.
 */
export const DANGEROUS_EVENTS = new Set([
  'pull_request_target',
  'workflow_run',
  'issue_comment',
  'pull_request_review',
  'pull_request_review_comment',
]);

/** A trust policy after load: matchers in evaluation order (identity claims first) and its grant. */
export interface CompiledPolicy {
  name: string;
  issuer: IssuerSpec;
  /** Identity claims this policy binds to exact values. */
  identity: ClaimMatcher[];
  /** Every other condition, including the implicit event_name default for GitHub. */
  conditions: ClaimMatcher[];
  grant: Grant;
}

/**
 * `compilePolicies` compiles every policy once at load. Problems (with config paths and the fix)
 * go to `problems`; advice that does not stop the load goes to `warnings`.
 */
export function compilePolicies(entries: PolicyConfig[], issuers: IssuerSpec[], problems: string[], warnings: string[]): CompiledPolicy[] {
  const names = new Set<string>();
  const compiled: CompiledPolicy[] = [];
  entries.forEach((entry, i) => {
    const at = `policies[${i}] (${entry.name})`;
    if (names.has(entry.name)) problems.push(`${at}.name: policy name "${entry.name}" is used twice; names must be unique`);
    names.add(entry.name);
    const issuer = issuers.find((s) => s.name === entry.issuer);
    if (!issuer) {
      problems.push(`${at}.issuer: no issuer named "${entry.issuer}"; known: ${issuers.map((s) => s.name).join(', ')}`);
      return;
    }
    const identity: ClaimMatcher[] = [];
    const conditions: ClaimMatcher[] = [];
    for (const [claim, matcher] of Object.entries(entry.match)) {
      const m = compileMatcher(claim, matcher, `${at}.match.${claim}`, problems);
      if (issuer.identityClaims.includes(claim) && m.exact) identity.push(m);
      else conditions.push(m);
      if (issuer.kind === 'github' && m.exact?.some((v) => !/^[0-9]+$/.test(v))) {
        if (issuer.identityClaims.includes(claim)) problems.push(`${at}.match.${claim}: GitHub ids are numbers written as strings ("74"); names belong in repository / repository_owner`);
      }
      if (issuer.identityClaims.includes(claim) && !m.exact) {
        problems.push(`${at}.match.${claim}: identity claims must be exact values, not a pattern; list the ids`);
      }
    }
    if (identity.length === 0) {
      problems.push(
        `${at}.match: binds no identity; add ${issuer.identityClaims.join(' or ')} with exact values ` +
          `(an issuer and audience alone would trust every ${issuer.kind === 'github' ? 'repository on GitHub' : 'account of the IdP'})`,
      );
    }
    if (issuer.kind === 'github') {
      checkGithubEvents(conditions, at, problems);
      // The event is checked first: it is the most telling reason a trusted repository is refused.
      conditions.sort((a, b) => Number(b.claim === 'event_name') - Number(a.claim === 'event_name'));
      if ('actor' in entry.match) {
        warnings.push(`${at}.match.actor: actor is who triggered the run, not an authorization boundary for CI; bind repository, workflow or environment`);
      }
    }
    compiled.push({ name: entry.name, issuer, identity, conditions, grant: compileGrant(entry.grant, `${at}.grant`, problems) });
  });
  return compiled;
}

/** Adds the default event allowlist and refuses patterns that would admit a dangerous event. */
function checkGithubEvents(conditions: ClaimMatcher[], at: string, problems: string[]): void {
  const event = conditions.find((m) => m.claim === 'event_name');
  if (!event) {
    const defaults = new Set<string>(DEFAULT_EVENTS);
    conditions.push({ claim: 'event_name', exact: DEFAULT_EVENTS, test: (v) => defaults.has(v), describe: `one of ${JSON.stringify(DEFAULT_EVENTS)} (default)` });
    return;
  }
  if (event.exact) return;
  for (const dangerous of DANGEROUS_EVENTS) {
    if (event.test(dangerous)) {
      problems.push(`${at}.match.event_name: the pattern admits ${dangerous}; list such events by exact name if you really mean them`);
    }
  }
}
