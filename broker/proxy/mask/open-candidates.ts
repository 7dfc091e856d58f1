/**
 * Finding the tail of a text that could still grow into a secret. JavaScript regexes cannot match
 * "a prefix of a match", and an alternation of every literal's prefixes tried at every position is
 * slow, so the literals go into a trie that is walked only from characters that start one.
 *
 * Walking the trie from every candidate start character is still most of a stream masker's time on
 * prose (`s`, `a`, `e`, … start literals), so the walk is limited to where a literal can be: every
 * literal has an *anchor* — a character rare in prose, such as `-` in `sk-`, `_` in `ghp_`, `J` in
 * `eyJ` — within its first `reach` characters. A literal, or a prefix of one long enough to
 * include its anchor, therefore starts at most `reach` characters before an anchor character of
 * the text, which a native regex finds fast and prose has few of; a shorter prefix can only be the
 * last `reach` characters. When some literal has no anchor near its start, every position is
 * scanned.
 */

/** A literal's streaming description: the text a match starts with and what may follow it. */
export interface PrefixSpec<R> {
  /** Who the literals belong to; reported for a candidate that outgrows the hold-back. */
  rule: R;
  literals: readonly string[];
  /** Regex source of what may follow a complete literal in a match still growing; '' when nothing may (exact values). */
  open: string;
  /** Literals compared with ASCII case folded. */
  caseInsensitive: boolean;
}

interface Tail<R> {
  /** Sticky, end-anchored continuation of a literal ending at this node. */
  regex: RegExp;
  rule: R;
}

interface TrieNode<R> {
  next: Map<number, TrieNode<R>>;
  /** A literal ends here. */
  terminal: boolean;
  tails: Tail<R>[];
}

export interface OpenCandidates<R> {
  /** Case-sensitive literals. */
  readonly exact: TrieNode<R>;
  /** ASCII-folded literals of case-insensitive rules. */
  readonly folded: TrieNode<R>;
  /** Which UTF-16 code units start some literal. */
  readonly starts: Uint8Array;
  /** Global regex of the anchor characters, or `null` to scan every position. */
  readonly anchors: RegExp | null;
  /** How far into a literal its anchor can be. */
  readonly reach: number;
}

/** Past this, anchors would narrow the scan too little to be worth it. */
const MAX_REACH = 16;

function node<R>(): TrieNode<R> {
  return { next: new Map(), terminal: false, tails: [] };
}

function fold(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

/** `buildOpenCandidates` compiles literals into tries; it throws if a continuation is not a valid regex. */
export function buildOpenCandidates<R>(specs: readonly PrefixSpec<R>[]): OpenCandidates<R> {
  const candidates: OpenCandidates<R> = { exact: node(), folded: node(), starts: new Uint8Array(0x10000), ...findAnchors(specs) };
  const regexes = new Map<string, RegExp>();
  for (const spec of specs) {
    const flags = spec.caseInsensitive ? 'iy' : 'y';
    const regex = spec.open === '' ? undefined : (regexes.get(flags + spec.open) ?? new RegExp(`(?:${spec.open})$`, flags));
    if (regex) regexes.set(flags + spec.open, regex);
    for (const literal of spec.literals) {
      let at = spec.caseInsensitive ? candidates.folded : candidates.exact;
      for (let i = 0; i < literal.length; i++) {
        const code = spec.caseInsensitive ? fold(literal.charCodeAt(i)) : literal.charCodeAt(i);
        let child = at.next.get(code);
        if (child === undefined) at.next.set(code, (child = node()));
        at = child;
      }
      at.terminal = true;
      if (regex) at.tails.push({ regex, rule: spec.rule });
      const first = literal.charCodeAt(0);
      candidates.starts[first] = 1;
      if (spec.caseInsensitive) {
        candidates.starts[fold(first)] = 1;
        candidates.starts[first >= 97 && first <= 122 ? first - 32 : first] = 1;
      }
    }
  }
  return candidates;
}

const isLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);

/**
 * How often a character turns up in ordinary text, roughly: every anchor in the text costs a short
 * scan, so each literal is anchored on its rarest character near the start. Lowercase letters are
 * never anchors (all letters, for a case-insensitive literal).
 */
function anchorCost(c: string, caseInsensitive: boolean): number {
  if (caseInsensitive ? isLetter(c) : /^[a-z]$/.test(c)) return Infinity;
  if (c === '.' || c === ' ') return 3;
  return /^[A-Z]$/.test(c) ? 2 : 1;
}

/** Picks each literal's anchor (its cheapest character within `MAX_REACH`) and how deep the deepest one lies. */
function findAnchors<R>(specs: readonly PrefixSpec<R>[]): { anchors: RegExp | null; reach: number } {
  const chars = new Set<string>();
  let reach = 0;
  for (const spec of specs) {
    for (const literal of spec.literals) {
      let best = -1;
      let bestCost = Infinity;
      for (let i = 0; i < Math.min(literal.length, MAX_REACH + 1); i++) {
        const cost = anchorCost(literal[i]!, spec.caseInsensitive);
        if (cost < bestCost) [best, bestCost] = [i, cost];
      }
      if (best === -1) return { anchors: null, reach: 0 };
      reach = Math.max(reach, best);
      chars.add(literal[best]!);
    }
  }
  if (chars.size === 0) return { anchors: null, reach: 0 };
  const escaped = [...chars].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  return { anchors: new RegExp(`[${escaped}]`, 'g'), reach };
}

const NONE = 0;
const LITERAL = 1;
const OPEN = 2;

// OPEN when text[from..] is a prefix of a literal, or a literal followed by a continuation that
// runs to the end of the text; LITERAL when a whole literal starts at `from` but is not open.
function probe<R>(root: TrieNode<R>, text: string, from: number, folded: boolean): number {
  let at = root;
  let found = NONE;
  for (let j = from; j < text.length; j++) {
    const code = folded ? fold(text.charCodeAt(j)) : text.charCodeAt(j);
    const child = at.next.get(code);
    if (child === undefined) return found;
    at = child;
    if (at.terminal) found = LITERAL;
    for (const { regex } of at.tails) {
      regex.lastIndex = j + 1;
      if (regex.test(text)) return OPEN;
    }
  }
  return OPEN;
}

// The rule of a literal starting at `from` whose continuation runs to the end of the text.
function openRule<R>(root: TrieNode<R>, text: string, from: number, folded: boolean): R | undefined {
  let at = root;
  for (let j = from; j < text.length; j++) {
    const child = at.next.get(folded ? fold(text.charCodeAt(j)) : text.charCodeAt(j));
    if (child === undefined) return undefined;
    at = child;
    for (const { regex, rule } of at.tails) {
      regex.lastIndex = j + 1;
      if (regex.test(text)) return rule;
    }
  }
  return undefined;
}

/** `findOpenRule` names the rule whose candidate starts at `at` and runs to the end of `text`, if any. */
export function findOpenRule<R>(candidates: OpenCandidates<R>, text: string, at: number): R | undefined {
  return openRule(candidates.exact, text, at, false) ?? openRule(candidates.folded, text, at, true);
}

/** Where a tail that could still grow into a match starts, and whether a whole literal occurs before it. */
export interface OpenTail {
  /** The earliest index ≥ `from` where a candidate runs to the end of the text, or the text's length. */
  start: number;
  /** Some literal occurs whole in [from, start): only then can a prefixed rule match there. */
  literalBefore: boolean;
}

/** `findLiteralStart` returns the first index in [from, to) where a literal, or a prefix of one running to the end of `text`, starts; else `to`. */
export function findLiteralStart<R>(candidates: OpenCandidates<R>, text: string, from: number, to: number): number {
  const { starts, exact, folded } = candidates;
  for (let i = from; i < to; i++) {
    if (starts[text.charCodeAt(i)] === 0) continue;
    if (probe(exact, text, i, false) !== NONE || (folded.next.size > 0 && probe(folded, text, i, true) !== NONE)) return i;
  }
  return to;
}

/** `findOpenTail` scans `text` from `from` for the tail to hold back. */
export function findOpenTail<R>(candidates: OpenCandidates<R>, text: string, from: number): OpenTail {
  const { anchors, reach } = candidates;
  const tail: OpenTail = { start: text.length, literalBefore: false };
  if (anchors === null) return scanForOpen(candidates, text, from, text.length, tail);
  // Only positions within `reach` before an anchor, or within `reach` of the end, can start a literal.
  let next = from;
  anchors.lastIndex = from;
  while (anchors.test(text)) {
    const anchor = anchors.lastIndex - 1;
    const lo = Math.max(next, anchor - reach);
    if (lo <= anchor && scanForOpen(candidates, text, lo, anchor + 1, tail).start !== text.length) return tail;
    next = anchor + 1;
  }
  return scanForOpen(candidates, text, Math.max(next, text.length - reach), text.length, tail);
}

/** Scans [from, to) for the first position where an open tail starts, recording whole literals before it in `tail`. */
function scanForOpen<R>(candidates: OpenCandidates<R>, text: string, from: number, to: number, tail: OpenTail): OpenTail {
  const { starts, exact, folded } = candidates;
  const foldedToo = folded.next.size > 0;
  for (let i = from; i < to; i++) {
    if (starts[text.charCodeAt(i)] === 0) continue;
    const found = Math.max(probe(exact, text, i, false), foldedToo ? probe(folded, text, i, true) : NONE);
    if (found === OPEN) {
      tail.start = i;
      return tail;
    }
    if (found === LITERAL) tail.literalBefore = true;
  }
  return tail;
}

/** The literal text a regex source starts with ('' when there is none we can trust). */
export function leadingLiteral(source: string): string {
  if (hasTopLevelAlternation(source)) return '';
  let literal = '';
  // A leading `\b` asserts on the character before the match; the match still starts with the literal.
  for (let i = source.startsWith('\\b') ? 2 : 0; i < source.length; i++) {
    const c = source[i] ?? '';
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) break;
      literal += next;
      i++;
      continue;
    }
    if ('^$.|()[]'.includes(c)) break;
    // A quantifier applies to the character before it, which therefore is not always there.
    if ('?*+{'.includes(c)) return literal.slice(0, -1);
    literal += c;
  }
  return literal;
}

function hasTopLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}
