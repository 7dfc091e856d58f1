import { BlockStreams, STREAMED_FIELDS, type Remainder, type StreamedField } from './block-streams.ts';
import { maskJsonWith } from './mask-json.ts';
import { maskTextWith } from './mask-text.ts';
import { scannerOf, type Masker } from './masker.ts';
import { formatDelta, parsePlainDelta } from './plain-delta.ts';
import { mayContainSecret, type Scanner } from './scanner.ts';
import { SseParser, type SseEvent } from './sse-parser.ts';

/** A per-response stream masker: upstream SSE bytes in, masked SSE bytes out, in order. */
export interface StreamMasker {
  /** Bytes ready to send now (may be empty). */
  push(chunk: Buffer): Buffer;
  /**
   * Call at the end of the upstream body. Held text goes out only if the message completed
   * (`message_stop` was seen); a body that stops short is an abnormal end and its held text is
   * dropped. On an abort or reset, drop the masker without calling `end()`.
   */
  end(): Buffer;
  /** Replacements made so far. */
  readonly count: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function streamedField(deltaType: unknown): StreamedField | undefined {
  if (deltaType === STREAMED_FIELDS.text) return 'text';
  if (deltaType === STREAMED_FIELDS.thinking) return 'thinking';
  if (deltaType === STREAMED_FIELDS.partial_json) return 'partial_json';
  return undefined;
}

const EMPTY = Buffer.alloc(0);
/** Event names that need no masking (checked on every event, so worth a shortcut). */
const KNOWN_EVENTS = new Set(['message_start', 'message_delta', 'message_stop', 'content_block_start', 'content_block_delta', 'content_block_stop', 'ping', 'error']);

class SseMasker implements StreamMasker {
  readonly #scanner: () => Scanner;
  readonly #parser = new SseParser();
  readonly #blocks: BlockStreams;
  #leafCount = 0;
  #completed = false;

  constructor(scanner: () => Scanner) {
    this.#scanner = scanner;
    this.#blocks = new BlockStreams(scanner);
  }

  get count(): number {
    return this.#leafCount + this.#blocks.count;
  }

  push(chunk: Buffer): Buffer {
    let out = '';
    for (const event of this.#parser.push(chunk)) out += this.#handle(event);
    if (out === '') return EMPTY;
    // Nearly always a chunk is whole events that pass unchanged: then it goes out as the bytes that came in.
    const text = this.#parser.lastAsciiChunk;
    return text !== undefined && out.length === text.length && out === text ? chunk : Buffer.from(out);
  }

  end(): Buffer {
    let out = '';
    for (const event of this.#parser.end()) out += this.#handle(event);
    if (this.#completed) out += this.#remainders(this.#blocks.flush());
    else this.#blocks.discard();
    return out === '' ? EMPTY : Buffer.from(out);
  }

  #handle(event: SseEvent): string {
    const data = event.data.length === 1 ? (event.data[0] ?? '') : event.data.join('\n');
    // Dispatch on the event name and the data type together: the SDK drops or throws on the name
    // and accumulates on the type, so only an event that agrees on both is part of a block's text.
    if (event.event === 'content_block_delta') {
      const plain = parsePlainDelta(data);
      if (plain !== undefined) return this.#plainDelta(event, plain.index, plain.field, plain.value);
    }
    const parsed = data === '' ? undefined : parseJson(data);
    const object = isObject(parsed) ? parsed : undefined;
    if (object !== undefined && event.event === object.type) {
      if (object.type === 'content_block_delta') return this.#delta(event, data, object);
      if (object.type === 'content_block_start') return this.#blockStart(event, data, object);
      if (object.type === 'content_block_stop' && typeof object.index === 'number') {
        return this.#remainders(this.#blocks.flush(object.index)) + this.#generic(event, data, parsed);
      }
    }
    const is = (name: string): boolean => event.event === name || object?.type === name;
    // An upstream error ends the message abnormally: what is held is dropped, not flushed (M-15).
    // Held text is at most the start of a secret that never completed, and no match on its own.
    if (is('error')) this.#blocks.discard();
    if (is('message_stop')) this.#completed = true;
    const ends = is('message_delta') || is('message_stop');
    return (ends ? this.#remainders(this.#blocks.flush()) : '') + this.#generic(event, data, parsed);
  }

  #plainDelta(event: SseEvent, index: number, field: StreamedField, piece: string): string {
    const released = this.#blocks.push(index, field, piece);
    if (released === piece) return this.#format(event, event.data);
    if (released === '' && piece !== '') return ''; // wholly held: nothing to send yet
    return this.#format(event, [formatDelta(index, field, released)]);
  }

  #delta(event: SseEvent, data: string, parsed: JsonObject): string {
    const { index, delta } = parsed;
    if (typeof index !== 'number' || !isObject(delta)) return this.#generic(event, data, parsed);
    // M-06: a signature is Anthropic's, never the model's; it passes untouched, after the thinking it signs.
    if (delta.type === 'signature_delta') return this.#remainders(this.#blocks.flush(index, 'thinking')) + this.#format(event, event.data);
    const field = streamedField(delta.type);
    if (field === undefined || typeof delta[field] !== 'string') return this.#generic(event, data, parsed);
    return this.#streamed(event, data, parsed, 'delta', field, index);
  }

  #blockStart(event: SseEvent, data: string, parsed: JsonObject): string {
    const { index, content_block: block } = parsed;
    if (typeof index !== 'number') return this.#generic(event, data, parsed);
    const reopened = this.#remainders(this.#blocks.flush(index));
    // A text or thinking block may start with text of its own: the first piece of the block's text.
    const field = isObject(block) && (block.type === 'text' || block.type === 'thinking') ? block.type : undefined;
    const text = field === undefined ? undefined : (block as JsonObject)[field];
    if (field === undefined || typeof text !== 'string' || text === '') return reopened + this.#generic(event, data, parsed);
    return reopened + this.#streamed(event, data, parsed, 'content_block', field, index);
  }

  /** Masks the growing text in `parsed[key][field]` with hold-back, and every other leaf as a whole. */
  #streamed(event: SseEvent, data: string, parsed: JsonObject, key: string, field: StreamedField, index: number): string {
    const inner = parsed[key] as JsonObject;
    const piece = inner[field] as string;
    const released = this.#blocks.push(index, field, piece);
    let rest: JsonObject = { ...parsed, [key]: { ...inner, [field]: '' } };
    let changed = released !== piece;
    if (mayContainSecret(this.#scanner(), data)) {
      const masked = maskJsonWith(this.#scanner(), rest);
      this.#leafCount += masked.count;
      rest = masked.value as JsonObject;
      changed ||= masked.count > 0;
    }
    if (!changed) return this.#format(event, event.data);
    return this.#format(event, [JSON.stringify({ ...rest, [key]: { ...(rest[key] as JsonObject), [field]: released } })]);
  }

  /** Any other event: every string leaf masked, the data text kept as it was when nothing matched. */
  #generic(event: SseEvent, data: string, parsed: unknown): string {
    if (!mayContainSecret(this.#scanner(), data)) return this.#format(event, event.data);
    if (parsed === undefined) {
      const masked = maskTextWith(this.#scanner(), data);
      this.#leafCount += masked.count;
      return this.#format(event, masked.count === 0 ? event.data : masked.text.split('\n'));
    }
    const masked = maskJsonWith(this.#scanner(), parsed);
    this.#leafCount += masked.count;
    return this.#format(event, masked.count === 0 ? event.data : [JSON.stringify(masked.value)]);
  }

  #remainders(remainders: readonly Remainder[]): string {
    let out = '';
    for (const { index, field, text } of remainders) out += `event: content_block_delta\ndata: ${formatDelta(index, field, text)}\n\n`;
    return out;
  }

  #format(event: SseEvent, data: readonly string[]): string {
    let out = event.event === null ? '' : `event: ${this.#maskField(event.event)}\n`;
    if (event.id !== null) out += `id: ${this.#maskField(event.id)}\n`;
    if (event.retry !== null) out += `retry: ${this.#maskField(event.retry)}\n`;
    for (const line of data) out += `data: ${line}\n`;
    return `${out}\n`;
  }

  #maskField(text: string): string {
    if (KNOWN_EVENTS.has(text) || !mayContainSecret(this.#scanner(), text)) return text;
    const masked = maskTextWith(this.#scanner(), text);
    this.#leafCount += masked.count;
    return masked.text;
  }
}

/**
 * `createStreamMasker` masks one SSE response. Events are parsed as the SDK parses them and written
 * back as `event:` / `data:` lines (comments dropped, security.md M-09); an event nothing touched
 * keeps its data text byte for byte. Per content block, `text_delta`, `thinking_delta` and
 * `input_json_delta` form one logical text masked with hold-back (see `TextStream`): held text goes
 * out with the block's next delta, or as one extra delta just before `content_block_stop` (before
 * `signature_delta` for thinking), or before `message_delta` / `message_stop`. An `error` event, or
 * a body ending before `message_stop`, drops it unsent. A delta whose text is wholly held is not
 * sent. Every other event — and every other string in a delta — has each string leaf masked;
 * `signature_delta` passes untouched (M-06).
 */
export function createStreamMasker(masker: Masker): StreamMasker {
  return new SseMasker(scannerOf(masker));
}
