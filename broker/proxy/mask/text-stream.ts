import { renderMasked } from './mask-text.ts';
import { findMatches, literalStart, openRuleAt, openTail, type Match, type Scanner, type Swallow } from './scanner.ts';

/** Original text kept before the pending tail, for look-behinds and `\b` at its start. */
const CONTEXT = 64;

/**
 * A `TextStream` masks one logical text that arrives in pieces (the `text` of one content block,
 * one JSON string inside `partial_json`) so that the concatenation of what it releases equals
 * masking the whole text at once.
 *
 * Hold-back rule: after each piece it releases everything up to the earliest tail that could still
 * grow into a match — a proper prefix of a rule's literal or exact value, or a literal followed by
 * characters the rule could still consume (`sk-ant-api03-AbC…` at the end of the piece) — and never
 * cuts a complete match. Such a tail is held until the next piece decides it, or until `end()`.
 * A tail never grows past `holdLimit` characters: a candidate that long goes out masked whether or
 * not it is a match yet (fail closed), and the stream swallows the rest of it (up to the footer for
 * a private key). Only there can the stream mask more than masking the whole text would. Rules
 * without a literal prefix make it hold the last `window` characters as well.
 */
export class TextStream {
  #pending = '';
  #context = '';
  #swallowing: { swallow: Swallow; tail: string } | undefined;
  /** Replacements made so far. */
  count = 0;

  constructor(private readonly scanner: () => Scanner) {}

  /** `push` takes the next piece and returns the masked text that is safe to send now. */
  push(piece: string): string {
    const rest = this.#swallow(piece);
    if (rest === '' && piece !== '') return '';
    return this.#release(this.#pending + rest, false);
  }

  /** `end` returns the masked remainder: the text is complete. */
  end(): string {
    const out = this.#release(this.#pending, true);
    this.#swallowing = undefined;
    return out;
  }

  #release(text: string, final: boolean): string {
    if (text === '') return '';
    const scanner = this.scanner();
    const all = this.#context + text;
    const base = this.#context.length;
    const { cut, matches } = final ? { cut: all.length, matches: findMatches(scanner, all, base) } : this.#hold(scanner, all, base);
    const released = (matches.at(-1)?.end ?? 0) <= cut ? matches : matches.filter((m) => m.end <= cut);
    this.count += released.length;
    this.#context = all.slice(Math.max(0, cut - CONTEXT), cut);
    this.#pending = all.slice(cut);
    return renderMasked(all, released, base, cut);
  }

  /** Decides where to cut `all` (what follows is held) and which matches lie before the cut. */
  #hold(scanner: Scanner, all: string, base: number): { cut: number; matches: Match[] } {
    const tail = openTail(scanner, all, base);
    // The common case: no whole literal before the tail, so no match to look for.
    if (scanner.window === 0 && !tail.literalBefore && all.length - tail.start <= scanner.holdLimit) {
      return { cut: keepPairs(all, base, tail.start), matches: [] };
    }
    const matches = findMatches(scanner, all, base);
    const end = all.length;
    let cut = holdFrom(scanner, all, base, tail.start, matches);
    while (end - cut > scanner.holdLimit) {
      const match = matches.find((m) => m.start === cut);
      if (match !== undefined && match.end < end) {
        cut = nextOpen(scanner, all, match.end, matches); // complete: later text cannot change it
        continue;
      }
      // Too long to wait for. A match still growing, or a candidate that is not one yet, goes out
      // masked now (fail closed) and the stream swallows the rest of it.
      const rule = match?.rule ?? openRuleAt(scanner, all, cut);
      if (rule === undefined) {
        cut = nextOpen(scanner, all, cut + 1, matches); // held only for a window rule: release it
        continue;
      }
      const swallow = match === undefined ? rule.overflow : rule.swallow;
      this.#swallowing = { swallow, tail: swallow.kind === 'until' ? all.slice(Math.max(cut, end - swallow.tail)) : '' };
      return { cut: end, matches: [...matches.filter((m) => m.end <= cut), { start: cut, end, rule }] };
    }
    return { cut: settle(matches, keepPairs(all, base, cut)), matches };
  }

  /** Drops the continuation of a match already sent masked; returns what is left of `piece`. */
  #swallow(piece: string): string {
    const state = this.#swallowing;
    if (state === undefined) return piece;
    let eaten: number;
    if (state.swallow.kind === 'charset') {
      eaten = state.swallow.run.exec(piece)?.[0].length ?? 0;
      if (state.swallow.stopAtLiterals) eaten = literalStart(this.scanner(), piece, 0, eaten);
      if (eaten < piece.length) this.#swallowing = undefined;
    } else {
      const joined = state.tail + piece;
      const footer = state.swallow.end.exec(joined);
      if (footer === null) {
        state.tail = joined.slice(-state.swallow.tail);
        eaten = piece.length;
      } else {
        eaten = Math.max(0, footer.index + footer[0].length - state.tail.length);
        this.#swallowing = undefined;
      }
    }
    this.#context = (this.#context + piece.slice(0, eaten)).slice(-CONTEXT);
    return piece.slice(eaten);
  }
}

/** Moves a cut that falls inside a complete match back to the match's start: a match is held whole. */
function settle(matches: readonly Match[], at: number): number {
  for (const m of matches) {
    if (m.start >= at) break;
    if (at < m.end) return m.start;
  }
  return at;
}

/** Where holding must start, given the open tail found from `from` (window rules hold a fixed tail too). */
function holdFrom(scanner: Scanner, all: string, from: number, open: number, matches: readonly Match[]): number {
  return settle(matches, scanner.window > 0 ? Math.min(open, Math.max(from, all.length - scanner.window)) : open);
}

function nextOpen(scanner: Scanner, all: string, from: number, matches: readonly Match[]): number {
  return holdFrom(scanner, all, from, openTail(scanner, all, from).start, matches);
}

/** Keeps a surrogate pair together, so every released piece is well-formed UTF-16. */
function keepPairs(all: string, base: number, cut: number): number {
  const code = all.charCodeAt(cut - 1);
  return cut > base && cut < all.length && code >= 0xd800 && code <= 0xdbff ? cut - 1 : cut;
}
