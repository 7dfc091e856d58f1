import { renderMasked } from './mask-text.ts';
import { findMatches, openStart, type Match, type Scanner, type Swallow } from './scanner.ts';

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
 * A tail never grows past `holdLimit` characters: a candidate that is already a match by then goes
 * out masked and the stream swallows the rest of it (up to the footer for a private key); one that
 * is not a match yet is released. Rules without a literal prefix make it hold the last `window`
 * characters as well.
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

  /** `holding` tells whether text is being held back or swallowed. */
  get holding(): boolean {
    return this.#pending !== '' || this.#swallowing !== undefined;
  }

  #release(text: string, final: boolean): string {
    if (text === '') return '';
    const scanner = this.scanner();
    const all = this.#context + text;
    const base = this.#context.length;
    const matches = findMatches(scanner, all, base);
    const cut = final ? all.length : this.#holdPoint(scanner, all, base, matches);
    const released = matches.filter((m) => m.end <= cut);
    this.count += released.length;
    this.#context = all.slice(Math.max(0, cut - CONTEXT), cut);
    this.#pending = all.slice(cut);
    return renderMasked(all, released, base, cut);
  }

  #holdPoint(scanner: Scanner, all: string, base: number, matches: readonly Match[]): number {
    const end = all.length;
    // Never cut inside a complete match: hold it whole.
    const settle = (at: number): number => matches.find((m) => m.start < at && at < m.end)?.start ?? at;
    const nextOpen = (from: number): number => {
      const open = openStart(scanner, all, from);
      return settle(scanner.window > 0 ? Math.min(open, Math.max(from, end - scanner.window)) : open);
    };
    let cut = nextOpen(base);
    while (end - cut > scanner.holdLimit) {
      const match = matches.find((m) => m.start === cut);
      if (match === undefined) {
        cut = nextOpen(cut + 1); // not a secret yet and too long to wait for: release it
      } else if (match.end < end) {
        cut = nextOpen(match.end); // complete: later text cannot change it
      } else {
        // A secret still growing at the end of the text: send it masked now, swallow what follows.
        const { swallow } = match.rule;
        const tail = swallow.kind === 'until' ? all.slice(Math.max(match.start, end - swallow.tail)) : '';
        this.#swallowing = { swallow, tail };
        return end;
      }
    }
    // Keep a surrogate pair together so every released piece is well-formed UTF-16.
    if (cut > base && cut < end && isHighSurrogate(all.charCodeAt(cut - 1))) cut = settle(cut - 1);
    return cut;
  }

  /** Drops the continuation of a match already sent masked; returns what is left of `piece`. */
  #swallow(piece: string): string {
    const state = this.#swallowing;
    if (state === undefined) return piece;
    let eaten: number;
    if (state.swallow.kind === 'charset') {
      eaten = state.swallow.run.exec(piece)?.[0].length ?? 0;
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

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
