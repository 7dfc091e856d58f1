/**
 * Finding the tail of a text that could still grow into a secret. JavaScript regexes cannot match
 * "a prefix of a match", and an alternation of every literal's prefixes tried at every position is
 * slow, so the literals go into a trie that is walked only from characters that start one.
 */

/** A literal's streaming description: the text a match starts with and what may follow it. */
export interface PrefixSpec {
  literals: readonly string[];
  /** Regex source of what may follow a complete literal in a match still growing; '' when nothing may (exact values). */
  open: string;
  /** Literals compared with ASCII case folded. */
  caseInsensitive: boolean;
}

interface TrieNode {
  next: Map<number, TrieNode>;
  /** Sticky, end-anchored continuations of the literals that end at this node. */
  tails: RegExp[];
}

export interface OpenCandidates {
  /** Case-sensitive literals. */
  readonly exact: TrieNode;
  /** ASCII-folded literals of case-insensitive rules. */
  readonly folded: TrieNode;
  /** Which UTF-16 code units start some literal. */
  readonly starts: Uint8Array;
}

function node(): TrieNode {
  return { next: new Map(), tails: [] };
}

function fold(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

/** `buildOpenCandidates` compiles literals into tries; it throws if a continuation is not a valid regex. */
export function buildOpenCandidates(specs: readonly PrefixSpec[]): OpenCandidates {
  const candidates: OpenCandidates = { exact: node(), folded: node(), starts: new Uint8Array(0x10000) };
  const tails = new Map<string, RegExp>();
  for (const spec of specs) {
    const flags = spec.caseInsensitive ? 'iy' : 'y';
    const tail = spec.open === '' ? undefined : (tails.get(flags + spec.open) ?? new RegExp(`(?:${spec.open})$`, flags));
    if (tail) tails.set(flags + spec.open, tail);
    for (const literal of spec.literals) {
      let at = spec.caseInsensitive ? candidates.folded : candidates.exact;
      for (let i = 0; i < literal.length; i++) {
        const code = spec.caseInsensitive ? fold(literal.charCodeAt(i)) : literal.charCodeAt(i);
        let child = at.next.get(code);
        if (child === undefined) at.next.set(code, (child = node()));
        at = child;
      }
      if (tail && !at.tails.includes(tail)) at.tails.push(tail);
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

// True when text[from..] is a prefix of a literal, or a literal followed by a continuation that
// runs to the end of the text.
function isOpenAt(root: TrieNode, text: string, from: number, folded: boolean): boolean {
  let at = root;
  for (let j = from; j < text.length; j++) {
    const code = folded ? fold(text.charCodeAt(j)) : text.charCodeAt(j);
    const child = at.next.get(code);
    if (child === undefined) return false;
    at = child;
    for (const tail of at.tails) {
      tail.lastIndex = j + 1;
      if (tail.test(text)) return true;
    }
  }
  return true;
}

/** `findOpenStart` returns the earliest index ≥ `from` where a candidate runs to the end of `text`, or `text.length`. */
export function findOpenStart(candidates: OpenCandidates, text: string, from: number): number {
  const { starts, exact, folded } = candidates;
  for (let i = from; i < text.length; i++) {
    if (starts[text.charCodeAt(i)] === 0) continue;
    if (isOpenAt(exact, text, i, false) || (folded.next.size > 0 && isOpenAt(folded, text, i, true))) return i;
  }
  return text.length;
}

/** The literal text a regex source starts with ('' when there is none we can trust). */
export function leadingLiteral(source: string): string {
  if (hasTopLevelAlternation(source)) return '';
  let literal = '';
  for (let i = 0; i < source.length; i++) {
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
