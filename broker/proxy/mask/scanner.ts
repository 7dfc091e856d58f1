import { buildOpenCandidates, findLiteralStart, findOpenRule, findOpenTail, leadingLiteral, type OpenCandidates, type OpenTail } from './open-candidates.ts';
import type { BuiltinRule, MaskRule } from './patterns.ts';

/** A rule after compilation. */
export interface CompiledRule {
  readonly name: string;
  /** `[MASKED:<name>]`: no quote, backslash or control character, so it is safe inside JSON and SSE. */
  readonly marker: string;
  /** Sticky copy of the rule's regex, to tell which rule a combined match came from. */
  readonly sticky: RegExp;
  /** What a match that outgrew the hold-back keeps swallowing in a stream. */
  readonly swallow: Swallow;
  /** What a candidate that outgrew the hold-back before it matched keeps swallowing (it goes out masked: fail closed). */
  readonly overflow: Swallow;
}

/**
 * How a stream keeps masking a match that is still growing after its replacement went out: a run of
 * a character class (stopping where a literal starts, for a candidate that was never a match), or
 * everything up to a terminator.
 */
export type Swallow = { kind: 'charset'; run: RegExp; stopAtLiterals: boolean } | { kind: 'until'; end: RegExp; tail: number };

/** A match of some rule in a text: `[start, end)`. */
export interface Match {
  start: number;
  end: number;
  rule: CompiledRule;
}

/**
 * Everything the maskers need, compiled once per set of rules and exact values:
 * `passes` find full matches; `open` finds the earliest tail that could still grow into a match;
 * `candidate` is a cheap superset test for raw (still JSON-escaped) text.
 */
export interface Scanner {
  readonly passes: readonly Pass[];
  /** Literal prefixes and exact values, for finding a tail that could still grow into a match. */
  readonly open: OpenCandidates<CompiledRule>;
  /** Global regexes; `null` means some rule has no literal prefix, so every text is a candidate. */
  readonly candidate: readonly RegExp[] | null;
  /** Characters a stream always keeps back for rules without a literal prefix (0 when there are none). */
  readonly window: number;
  /** The most a stream keeps back before it decides (at least the longest exact literal). */
  readonly holdLimit: number;
}

interface Pass {
  readonly regex: RegExp;
  readonly rules: readonly CompiledRule[];
}

export const EXACT_RULE_NAME = 'known-secret';
const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** `maskMarker` returns the replacement text for a rule. */
export function maskMarker(name: string): string {
  return `[MASKED:${name}]`;
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function passFlags(regex: RegExp): string {
  return [...regex.flags].filter((f) => !'gyd'.includes(f)).sort().join('');
}

// A back-reference or named group would be renumbered (or clash) inside a combined regex.
function needsOwnPass(source: string): boolean {
  return /\\[1-9]|\\k<|\(\?<[A-Za-z_$]/.test(source);
}

interface Prepared {
  compiled: CompiledRule;
  source: string;
  flags: string;
  literals: readonly string[];
  caseInsensitive: boolean;
  /** Regex source of an open candidate's continuation after a literal. */
  open: string;
}

function prepare(rule: MaskRule | BuiltinRule, problems: string[]): Prepared | undefined {
  if (!RULE_NAME.test(rule.name)) {
    problems.push(`mask rule "${rule.name}": name must match ${RULE_NAME.source}`);
    return undefined;
  }
  const flags = passFlags(rule.regex);
  const probe = new RegExp(rule.regex.source, flags);
  if (probe.test('')) {
    problems.push(`mask rule "${rule.name}": regex /${rule.regex.source}/ matches the empty string`);
    return undefined;
  }
  const caseInsensitive = flags.includes('i');
  const derived = leadingLiteral(rule.regex.source);
  const literals = rule.prefixes ?? (derived.length >= 2 ? [derived] : []);
  const charset = rule.charset ?? '\\S';
  const builtin = rule as Partial<BuiltinRule>;
  try {
    new RegExp(`(?:${charset})*`);
  } catch {
    problems.push(`mask rule "${rule.name}": charset ${charset} is not a valid regex character class`);
    return undefined;
  }
  const until: Swallow | undefined = builtin.until ? { kind: 'until', end: new RegExp(builtin.until.source), tail: 256 } : undefined;
  const swallow: Swallow = until ?? { kind: 'charset', run: new RegExp(`^(?:${builtin.tail ?? charset})*`), stopAtLiterals: false };
  // A candidate is only presumed a secret: where another literal starts, that one gets its own chance.
  const overflow: Swallow = until ?? { kind: 'charset', run: new RegExp(`^(?:${charset})*`), stopAtLiterals: true };
  return {
    compiled: { name: rule.name, marker: maskMarker(rule.name), sticky: new RegExp(rule.regex.source, `${flags}y`), swallow, overflow },
    source: rule.regex.source,
    flags,
    literals,
    caseInsensitive,
    open: builtin.open ?? `(?:${charset})*`,
  };
}

function exactRule(literals: readonly string[]): Prepared {
  const source = literals.map(escapeRegex).join('|');
  const nothing: Swallow = { kind: 'charset', run: /^(?:)/, stopAtLiterals: false };
  return {
    compiled: { name: EXACT_RULE_NAME, marker: maskMarker(EXACT_RULE_NAME), sticky: new RegExp(source, 'y'), swallow: nothing, overflow: nothing },
    source,
    flags: '',
    literals,
    caseInsensitive: false,
    open: '',
  };
}

function buildPasses(prepared: readonly Prepared[]): Pass[] {
  const groups = new Map<string, Prepared[]>();
  const passes: Pass[] = [];
  for (const p of prepared) {
    if (needsOwnPass(p.source)) {
      passes.push({ regex: new RegExp(p.source, `${p.flags}g`), rules: [p.compiled] });
      continue;
    }
    const group = groups.get(p.flags) ?? [];
    group.push(p);
    groups.set(p.flags, group);
  }
  for (const [flags, group] of groups) {
    passes.unshift({ regex: new RegExp(group.map((p) => `(?:${p.source})`).join('|'), `${flags}g`), rules: group.map((p) => p.compiled) });
  }
  // The flag-less pass (exact values and built-ins) goes first; order only matters for ties.
  passes.sort((a, b) => Number(a.regex.flags !== 'g') - Number(b.regex.flags !== 'g'));
  return passes;
}

// A literal alternation, case-insensitive rules in a second regex.
function buildCandidate(prepared: readonly Prepared[]): RegExp[] | null {
  if (prepared.some((p) => p.literals.length === 0)) return null;
  const regexes: RegExp[] = [];
  for (const caseInsensitive of [false, true]) {
    const literals = prepared.filter((p) => p.caseInsensitive === caseInsensitive).flatMap((p) => p.literals);
    if (literals.length === 0) continue;
    const alternatives = new Set<string>(['\\\\u', '\\\\/']); // escapes that can hide a literal in raw JSON
    for (const literal of literals) {
      alternatives.add(escapeRegex(literal));
      alternatives.add(escapeRegex(JSON.stringify(literal).slice(1, -1)));
    }
    regexes.push(new RegExp([...alternatives].join('|'), caseInsensitive ? 'gi' : 'g'));
  }
  return regexes;
}

/**
 * `compileScanner` compiles rules and exact literals (already encoded, longest first) into a
 * `Scanner`, or throws one error listing every bad rule.
 */
export function compileScanner(rules: readonly (MaskRule | BuiltinRule)[], exactLiterals: readonly string[], maxHoldBack: number): Scanner {
  const problems: string[] = [];
  const prepared = rules.map((r) => prepare(r, problems)).filter((p): p is Prepared => p !== undefined);
  if (exactLiterals.length > 0) prepared.unshift(exactRule(exactLiterals));
  let open: OpenCandidates<CompiledRule> | undefined;
  try {
    open = buildOpenCandidates(prepared.map((p) => ({ ...p, rule: p.compiled })));
  } catch (error) {
    problems.push(`mask rules: cannot compile a streaming continuation (${(error as Error).message}); check each rule's charset`);
  }
  if (problems.length > 0 || open === undefined) throw new Error(`invalid masking configuration:\n- ${problems.join('\n- ')}`);
  const longestLiteral = Math.max(0, ...exactLiterals.map((l) => l.length));
  return {
    passes: buildPasses(prepared),
    open,
    candidate: buildCandidate(prepared),
    window: prepared.some((p) => p.literals.length === 0) ? maxHoldBack : 0,
    holdLimit: Math.max(maxHoldBack, longestLiteral),
  };
}

function ruleAt(pass: Pass, text: string, index: number): CompiledRule {
  if (pass.rules.length === 1) return pass.rules[0] as CompiledRule;
  for (const rule of pass.rules) {
    rule.sticky.lastIndex = index;
    if (rule.sticky.test(text)) return rule;
  }
  return pass.rules[0] as CompiledRule;
}

/**
 * `findMatches` returns the non-overlapping matches in `text` that start at or after `from`,
 * in order. Text before `from` is context only: look-behinds and `\b` see it, matches never start in it.
 */
export function findMatches(scanner: Scanner, text: string, from = 0): Match[] {
  const matches: Match[] = [];
  for (const pass of scanner.passes) {
    const { regex } = pass;
    regex.lastIndex = from;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      if (m[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      matches.push({ start: m.index, end: m.index + m[0].length, rule: ruleAt(pass, text, m.index) });
    }
  }
  if (scanner.passes.length < 2) return matches;
  // Several passes: earliest start wins, then the longest; drop what overlaps a kept match.
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Match[] = [];
  for (const m of matches) if (m.start >= (kept.at(-1)?.end ?? -1)) kept.push(m);
  return kept;
}

/** `openTail` finds the tail of `text` after `from` that could still grow into a match (see `OpenTail`). */
export function openTail(scanner: Scanner, text: string, from: number): OpenTail {
  return findOpenTail(scanner.open, text, from);
}

/** `openRuleAt` names the rule of the candidate at `at` that runs to the end of `text`, if any. */
export function openRuleAt(scanner: Scanner, text: string, at: number): CompiledRule | undefined {
  return findOpenRule(scanner.open, text, at);
}

/** `literalStart` returns the first index in [from, to) where a literal (or a prefix of one at the end of `text`) starts, else `to`. */
export function literalStart(scanner: Scanner, text: string, from: number, to: number): number {
  return findLiteralStart(scanner.open, text, from, to);
}

/** `mayContainSecret` is a cheap superset test, valid on raw JSON text as well as on plain text. */
export function mayContainSecret(scanner: Scanner, text: string): boolean {
  if (scanner.candidate === null) return true;
  for (const regex of scanner.candidate) {
    regex.lastIndex = 0;
    if (regex.test(text)) return true;
  }
  return false;
}
