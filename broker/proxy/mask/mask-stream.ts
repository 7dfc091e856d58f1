import { BlockStreams, STREAMED_FIELDS, type Remainder, type StreamedField } from './block-streams.ts';
import { maskJsonWith } from './mask-json.ts';
import { maskTextWith } from './mask-text.ts';
import { scannerOf, type Masker } from './masker.ts';
import { mayContainSecret } from './scanner.ts';
import { SseParser, type SseEvent } from './sse-parser.ts';

/** A per-response stream masker: upstream SSE bytes in, masked SSE bytes out, in order. */
export interface StreamMasker {
  /** Bytes ready to send now (may be empty). */
  push(chunk: Buffer): Buffer;
  /** Flushes held text at the normal end of the upstream body. On an abort, drop the masker instead: held text is never sent. */
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

/** Events after which no held text of the message may stay behind. */
const MESSAGE_END = new Set(['message_delta', 'message_stop', 'error']);
const EMPTY = Buffer.alloc(0);

/**
 * `createStreamMasker` masks one SSE response. Events are parsed as the SDK parses them and written
 * back as `event:` / `data:` lines (comments dropped, security.md M-09); an event nothing touched
 * keeps its data text byte for byte. Per content block, `text_delta`, `thinking_delta` and
 * `input_json_delta` form one logical text masked with hold-back (see `TextStream`): held text goes
 * out with the block's next delta, or as one extra delta just before `content_block_stop` (before
 * `signature_delta` for thinking), or before `message_delta` / `message_stop` / `error`, or at
 * `end()`. A delta whose text is wholly held is not sent. Every other event — and every other string
 * in a delta — has each string leaf masked; `signature_delta` passes untouched (M-06).
 */
export function createStreamMasker(masker: Masker): StreamMasker {
  const scanner = scannerOf(masker);
  const parser = new SseParser();
  const blocks = new BlockStreams(scanner);
  let leafCount = 0;

  const maskString = (text: string): string => {
    if (!mayContainSecret(scanner(), text)) return text;
    const masked = maskTextWith(scanner(), text);
    leafCount += masked.count;
    return masked.text;
  };

  const format = (event: SseEvent, data: readonly string[]): string => {
    let out = event.event === null ? '' : `event: ${maskString(event.event)}\n`;
    if (event.id !== null) out += `id: ${maskString(event.id)}\n`;
    if (event.retry !== null) out += `retry: ${maskString(event.retry)}\n`;
    for (const line of data) out += `data: ${line}\n`;
    return `${out}\n`;
  };

  const formatJson = (event: SseEvent, value: unknown): string => format(event, [JSON.stringify(value)]);

  const formatRemainders = (remainders: readonly Remainder[]): string =>
    remainders
      .map(({ index, field, text }) =>
        formatJson(
          { event: 'content_block_delta', data: [], id: null, retry: null },
          { type: 'content_block_delta', index, delta: { type: STREAMED_FIELDS[field], [field]: text } },
        ),
      )
      .join('');

  const maskLeaves = (value: unknown): { value: unknown; changed: boolean } => {
    const masked = maskJsonWith(scanner(), value);
    leafCount += masked.count;
    return { value: masked.value, changed: masked.count > 0 };
  };

  /** Any event: every string leaf masked; the data text kept as it was when nothing matched. */
  const maskGeneric = (event: SseEvent, data: string, parsed: unknown): string => {
    if (!mayContainSecret(scanner(), data)) return format(event, event.data);
    if (parsed === undefined) {
      const masked = maskTextWith(scanner(), data);
      leafCount += masked.count;
      return format(event, masked.count === 0 ? event.data : masked.text.split('\n'));
    }
    const masked = maskLeaves(parsed);
    return masked.changed ? formatJson(event, masked.value) : format(event, event.data);
  };

  /** Masks the streamed field of a delta or block start, and the rest of its leaves. */
  const maskStreamed = (event: SseEvent, data: string, outer: JsonObject, inner: JsonObject, innerKey: string, index: number, field: StreamedField, canDrop: boolean): string => {
    const piece = inner[field] as string;
    const released = blocks.push(index, field, piece);
    // The fixed shape of Anthropic's events carries nothing but the text; anything more is masked too.
    const plain = Object.keys(outer).length === 3 && Object.keys(inner).length === 2;
    let rest: unknown = outer;
    let changed = released !== piece;
    if (!plain && mayContainSecret(scanner(), data)) {
      const masked = maskLeaves({ ...outer, [innerKey]: { ...inner, [field]: '' } });
      rest = masked.value;
      changed ||= masked.changed;
    }
    if (!changed) return format(event, event.data);
    if (released === '' && canDrop && plain) return ''; // wholly held: nothing to send yet
    const restObject = rest as JsonObject;
    return formatJson(event, { ...restObject, [innerKey]: { ...(restObject[innerKey] as JsonObject), [field]: released } });
  };

  const onDelta = (event: SseEvent, data: string, parsed: JsonObject): string => {
    const { index, delta } = parsed;
    if (typeof index !== 'number' || !isObject(delta)) return maskGeneric(event, data, parsed);
    if (delta.type === 'signature_delta') return formatRemainders(blocks.flush(index, 'thinking')) + format(event, event.data);
    const field = (Object.keys(STREAMED_FIELDS) as StreamedField[]).find((f) => STREAMED_FIELDS[f] === delta.type);
    if (field === undefined || typeof delta[field] !== 'string') return maskGeneric(event, data, parsed);
    return maskStreamed(event, data, parsed, delta, 'delta', index, field, delta[field] !== '');
  };

  const onBlockStart = (event: SseEvent, data: string, parsed: JsonObject): string => {
    const { index, content_block: block } = parsed;
    if (typeof index !== 'number') return maskGeneric(event, data, parsed);
    const reopened = formatRemainders(blocks.flush(index));
    // A text or thinking block may start with text of its own: it is the first piece of the block's text.
    const field = isObject(block) && (block.type === 'text' || block.type === 'thinking') ? (block.type as StreamedField) : undefined;
    if (field === undefined || !isObject(block) || typeof block[field] !== 'string' || block[field] === '') {
      return reopened + maskGeneric(event, data, parsed);
    }
    return reopened + maskStreamed(event, data, parsed, block, 'content_block', index, field, false);
  };

  const handle = (event: SseEvent): string => {
    const data = event.data.join('\n');
    const parsed = data === '' ? undefined : parseJson(data);
    const object = isObject(parsed) ? parsed : undefined;
    const name = event.event;
    const type = object?.type;
    // Dispatch on the event name and the data type together: the SDK drops or throws on the name
    // and accumulates on the type, so only an event that agrees on both is part of a block's text.
    if (object !== undefined && name === type) {
      if (name === 'content_block_delta') return onDelta(event, data, object);
      if (name === 'content_block_start') return onBlockStart(event, data, object);
      if (name === 'content_block_stop' && typeof object.index === 'number') {
        return formatRemainders(blocks.flush(object.index)) + maskGeneric(event, data, parsed);
      }
    }
    const flushed = MESSAGE_END.has(name ?? '') || MESSAGE_END.has(String(type)) ? formatRemainders(blocks.flush()) : '';
    return flushed + maskGeneric(event, data, parsed);
  };

  const emit = (events: readonly SseEvent[], tail: () => string): Buffer => {
    let out = '';
    for (const event of events) out += handle(event);
    out += tail();
    return out === '' ? EMPTY : Buffer.from(out);
  };

  return {
    push: (chunk) => emit(parser.push(chunk), () => ''),
    end: () => emit(parser.end(), () => formatRemainders(blocks.flush())),
    get count() {
      return leafCount + blocks.count;
    },
  };
}

