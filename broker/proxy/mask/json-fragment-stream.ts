import { maskTextWith } from './mask-text.ts';
import type { Scanner } from './scanner.ts';
import { TextStream } from './text-stream.ts';

/** The body of a JSON string up to (not including) its closing quote or the end of the text. */
const STRING_BODY = /(?:[^"\\]+|\\[\s\S])*/y;
/** A `\uXXXX` escape cut short by the end of a piece. */
const CUT_UNICODE_ESCAPE = /\\u[0-9A-Fa-f]{0,3}$/;

function escapeJson(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

// True when the backslash at `index` starts an escape, i.e. is not itself escaped.
function startsEscape(raw: string, index: number): boolean {
  let before = 0;
  while (index - before - 1 >= 0 && raw[index - before - 1] === '\\') before++;
  return before % 2 === 0;
}

/**
 * A `JsonFragmentStream` masks the `partial_json` pieces of one tool-use block. The pieces join into
 * JSON text, so a secret in a tool argument arrives JSON-escaped and possibly cut inside an escape.
 * Structure outside strings passes through untouched; each string (key or value) is decoded, masked
 * as one logical text with hold-back (a `TextStream`), and re-escaped. Decoding first means
 * `\u0073k-ant-…` or `\/`-escaped secrets are caught too. The joined output parses to the same
 * value as the input with every string masked.
 */
export class JsonFragmentStream {
  #inString = false;
  /** Raw characters of an escape sequence cut by the end of the previous piece. */
  #carry = '';
  #text: TextStream;
  #done = 0;

  constructor(private readonly scanner: () => Scanner) {
    this.#text = new TextStream(scanner);
  }

  /** Replacements made so far. */
  get count(): number {
    return this.#done + this.#text.count;
  }

  /** `push` takes the next `partial_json` piece and returns the masked JSON text that is safe to send now. */
  push(piece: string): string {
    let out = '';
    let at = 0;
    while (at < piece.length) {
      if (!this.#inString) {
        const quote = piece.indexOf('"', at);
        if (quote === -1) return out + piece.slice(at);
        out += piece.slice(at, quote + 1);
        at = quote + 1;
        this.#inString = true;
        continue;
      }
      const body = this.#carry + piece.slice(at);
      const carried = this.#carry.length;
      this.#carry = '';
      STRING_BODY.lastIndex = 0;
      const length = STRING_BODY.exec(body)?.[0].length ?? 0;
      if (body[length] === '"') {
        out += this.#decodeAndMask(body.slice(0, length), true) + '"';
        this.#inString = false;
        at += length + 1 - carried;
        continue;
      }
      // The string goes on in the next piece; keep back an escape cut in half.
      let raw = body.slice(0, length);
      let cut = body.slice(length); // a lone trailing backslash, if any
      const unicode = CUT_UNICODE_ESCAPE.exec(raw);
      if (unicode !== null && startsEscape(raw, unicode.index)) {
        cut = raw.slice(unicode.index) + cut;
        raw = raw.slice(0, unicode.index);
      }
      this.#carry = cut;
      return out + this.#decodeAndMask(raw, false);
    }
    return out;
  }

  /** `end` returns what is still held: the block is complete. */
  end(): string {
    if (!this.#inString) return '';
    this.#inString = false;
    const out = escapeJson(this.#text.end()) + this.#carry;
    this.#carry = '';
    return out;
  }

  #decodeAndMask(raw: string, closes: boolean): string {
    let decoded: string;
    try {
      decoded = JSON.parse(`"${raw}"`) as string;
    } catch {
      // Not valid JSON string text (the upstream sent broken JSON): release what is held, then mask it as it stands.
      const held = escapeJson(this.#finishString());
      const masked = maskTextWith(this.scanner(), raw);
      this.#done += masked.count;
      return held + masked.text;
    }
    const released = this.#text.push(decoded);
    return escapeJson(closes ? released + this.#finishString() : released);
  }

  #finishString(): string {
    const rest = this.#text.end();
    this.#done += this.#text.count;
    this.#text = new TextStream(this.scanner);
    return rest;
  }
}
