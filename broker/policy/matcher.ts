import type { Matcher } from '../config/schema.ts';

/** One compiled `match:` entry: a claim and the test its value must pass. */
export interface ClaimMatcher {
  claim: string;
  /** The exact values, when the matcher is exact (a string or list); undefined for a pattern. */
  exact: readonly string[] | undefined;
  test(value: string): boolean;
  /** For operators (`policy check`): `= "74"`, `one of [...]`, `~ /^(?:…)$/`. */
  describe: string;
}

/**
 * `compileMatcher` turns a config matcher into a ClaimMatcher. Patterns are always anchored
 * (`^(?:…)$`), so `acme` can never match `acme-evil`; a bad regex is reported, not thrown.
 */
export function compileMatcher(claim: string, matcher: Matcher, at: string, problems: string[]): ClaimMatcher {
  if (typeof matcher === 'string' || Array.isArray(matcher)) {
    const exact = typeof matcher === 'string' ? [matcher] : matcher;
    const set = new Set(exact);
    const describe = exact.length === 1 ? `= ${JSON.stringify(exact[0])}` : `one of ${JSON.stringify(exact)}`;
    return { claim, exact, test: (value) => set.has(value), describe };
  }
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${matcher.pattern})$`, 'u');
  } catch (err) {
    problems.push(`${at}.pattern: invalid regular expression (${(err as Error).message}); fix the pattern`);
    regex = /(?!)/; // never matches; the config fails to load anyway
  }
  return { claim, exact: undefined, test: (value) => regex.test(value), describe: `~ /${regex.source}/` };
}
