import { JsonFragmentStream } from './json-fragment-stream.ts';
import type { Scanner } from './scanner.ts';
import { TextStream } from './text-stream.ts';

/** The delta fields that carry a growing text, and the delta type each belongs to. */
export const STREAMED_FIELDS = { text: 'text_delta', thinking: 'thinking_delta', partial_json: 'input_json_delta' } as const;
export type StreamedField = keyof typeof STREAMED_FIELDS;

/** Held text released at the end of a block, to be sent as one more delta. */
export interface Remainder {
  index: number;
  field: StreamedField;
  text: string;
}

interface Open {
  index: number;
  field: StreamedField;
  stream: TextStream | JsonFragmentStream;
}

/**
 * `BlockStreams` keeps one hold-back stream per content block `index` and field, so interleaved
 * blocks never mix their texts (security.md M-03). A secret deliberately split across two blocks
 * is two harmless halves to the masker — and two separate strings to the client.
 */
export class BlockStreams {
  #open = new Map<string, Open>();
  #closedCount = 0;

  constructor(private readonly scanner: () => Scanner) {}

  /** Replacements made so far. */
  get count(): number {
    let count = this.#closedCount;
    for (const { stream } of this.#open.values()) count += stream.count;
    return count;
  }

  /** `push` feeds a piece of a block's text and returns the masked text safe to send now. */
  push(index: number, field: StreamedField, piece: string): string {
    const key = `${index}:${field}`;
    let open = this.#open.get(key);
    if (open === undefined) {
      const stream = field === 'partial_json' ? new JsonFragmentStream(this.scanner) : new TextStream(this.scanner);
      open = { index, field, stream };
      this.#open.set(key, open);
    }
    return open.stream.push(piece);
  }

  /** `discard` drops every block's held text unsent: the message ended abnormally (security.md M-15). */
  discard(): void {
    for (const { stream } of this.#open.values()) this.#closedCount += stream.count;
    this.#open.clear();
  }

  /** `flush` ends the streams of one block (and one field of it, if given), or of every block, and returns their remainders. */
  flush(index?: number, field?: StreamedField): Remainder[] {
    const remainders: Remainder[] = [];
    for (const [key, open] of this.#open) {
      if (index !== undefined && open.index !== index) continue;
      if (field !== undefined && open.field !== field) continue;
      const text = open.stream.end();
      this.#closedCount += open.stream.count;
      this.#open.delete(key);
      if (text !== '') remainders.push({ index: open.index, field: open.field, text });
    }
    return remainders;
  }
}
