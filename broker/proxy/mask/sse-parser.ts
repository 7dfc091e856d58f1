import { isAscii } from 'node:buffer';

/** One server-sent event as the Anthropic SDK sees it. */
export interface SseEvent {
  /** The `event:` field; `null` when the event had none (the SDK then drops it). */
  event: string | null;
  /** The `data:` lines; empty when there were none. The SDK joins them with `\n`. */
  data: string[];
  /** `id:` and `retry:` are ignored by the SDK; kept so the masker can pass them on. */
  id: string | null;
  retry: string | null;
}

const LINE_END = /[\r\n]/g;

/**
 * An `SseParser` turns response bytes into events exactly as the Anthropic SDK's decoder does
 * (`@anthropic-ai/sdk` `core/streaming` `_iterSSEMessages`, 1.14):
 * - UTF-8 decoded as a stream, the BOM kept by the decoder but stripped from the start of any line;
 * - lines end at `\n`, `\r\n` or `\r`; a `\r` at the end of a chunk waits for the next chunk;
 * - a blank line ends an event, if it has an `event:` or `data:` field;
 * - `:` starts a comment; one space after the field's colon is dropped; `data:` lines accumulate;
 * - at the end of the stream an event without its blank line is dropped, as the SDK drops it.
 * Unlike the SDK it also records `id:` and `retry:` (the SDK ignores them either way).
 */
export class SseParser {
  #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  #text = '';
  #event: string | null = null;
  #data: string[] = [];
  #id: string | null = null;
  #retry: string | null = null;
  /** The decoder holds the start of a character split across chunks (possibly: any chunk that did not end in ASCII). */
  #mayHoldBytes = false;
  /** The last chunk pushed, as text, if it was all ASCII (so that text and those bytes are one and the same). */
  lastAsciiChunk: string | undefined;

  /** `push` returns the events completed by `chunk`. */
  push(chunk: Uint8Array): SseEvent[] {
    const decoded = this.#decode(chunk);
    const waitingForLf = this.#text.endsWith('\r');
    this.#text += decoded;
    const events: SseEvent[] = [];
    // Searching the whole pending text again would make a long line quadratic.
    if (!waitingForLf && !decoded.includes('\n') && !decoded.includes('\r')) return events;
    const text = this.#text;
    let start = 0;
    if (!text.includes('\r')) {
      for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', start)) {
        const event = this.#takeLine(text.slice(start, at));
        start = at + 1;
        if (event) events.push(event);
      }
      this.#text = text.slice(start);
      return events;
    }
    LINE_END.lastIndex = 0;
    for (let m = LINE_END.exec(text); m !== null; m = LINE_END.exec(text)) {
      const at = m.index;
      if (text[at] === '\r' && at + 1 === text.length) break; // maybe half of `\r\n`
      const event = this.#takeLine(text.slice(start, at));
      start = text[at] === '\r' && text[at + 1] === '\n' ? at + 2 : at + 1;
      LINE_END.lastIndex = start;
      if (event) events.push(event);
    }
    this.#text = text.slice(start);
    return events;
  }

  // Nearly every chunk is plain ASCII: read as Latin-1 it is the same text, several times faster
  // than through TextDecoder — unless the decoder holds the first bytes of a character split
  // across chunks, which only a chunk ending in a non-ASCII byte can leave behind.
  #decode(chunk: Uint8Array): string {
    if (!this.#mayHoldBytes && isAscii(chunk)) return (this.lastAsciiChunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'));
    this.lastAsciiChunk = undefined;
    this.#mayHoldBytes = chunk.length > 0 ? chunk[chunk.length - 1]! >= 0x80 : this.#mayHoldBytes;
    return this.#decoder.decode(chunk, { stream: true });
  }

  /** `end` returns what the end of the stream completes (with the SDK's rules: nothing, in practice). */
  end(): SseEvent[] {
    const text = this.#text + this.#decoder.decode();
    this.#text = '';
    const events: SseEvent[] = [];
    if (text === '') return events;
    for (const line of text.replace(/\r$/, '').split(/\r\n|[\n\r]/)) {
      const event = this.#takeLine(line);
      if (event) events.push(event);
    }
    return events;
  }

  #takeLine(raw: string): SseEvent | undefined {
    const line = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (line === '') {
      if (!this.#event && this.#data.length === 0) return undefined;
      const event: SseEvent = { event: this.#event, data: this.#data, id: this.#id, retry: this.#retry };
      this.#event = null;
      this.#data = [];
      this.#id = null;
      this.#retry = null;
      return event;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return undefined;
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id') this.#id = value;
    else if (field === 'retry') this.#retry = value;
    return undefined;
  }
}
