import { findMatches, type Match, type Scanner } from './scanner.ts';

/** A masked text and how many replacements it took. */
export interface MaskedText {
  text: string;
  count: number;
}

/**
 * `renderMasked` returns `text[from, to)` with every match in it replaced by its rule's marker.
 * Matches must be sorted, non-overlapping and lie inside the range.
 */
export function renderMasked(text: string, matches: readonly Match[], from = 0, to = text.length): string {
  let out = '';
  let at = from;
  for (const m of matches) {
    out += text.slice(at, m.start) + m.rule.marker;
    at = m.end;
  }
  return out + text.slice(at, to);
}

/** `maskTextWith` masks a whole, final text: the end of `text` is the end of the secret's world. */
export function maskTextWith(scanner: Scanner, text: string): MaskedText {
  const matches = findMatches(scanner, text);
  if (matches.length === 0) return { text, count: 0 };
  return { text: renderMasked(text, matches), count: matches.length };
}
