import { STREAMED_FIELDS, type StreamedField } from './block-streams.ts';

/** A text-carrying delta, in exactly the form Anthropic serialises it. */
export interface PlainDelta {
  index: number;
  field: StreamedField;
  value: string;
}

// Deltas are nearly every event of a stream, and reading Anthropic's fixed serialisation with a few
// prefix and end checks is many times cheaper than JSON.parse (or one regex over the whole text).
// Anything else (extra fields, another key order, odd spacing) takes the general path.
const HEAD = '{"type":"content_block_delta","index":';
const TAIL = '"}}';
const FIELD_HEADS = (Object.entries(STREAMED_FIELDS) as [StreamedField, string][]).map(([field, type]) => ({ field, head: `,"delta":{"type":"${type}","${field}":"` }));

/** `parsePlainDelta` reads a delta event's data if it has Anthropic's exact shape, else `undefined`. */
export function parsePlainDelta(data: string): PlainDelta | undefined {
  if (!data.startsWith(HEAD) || !data.endsWith(TAIL)) return undefined;
  let at = HEAD.length;
  while (at < data.length && at - HEAD.length < 9 && isDigit(data.charCodeAt(at))) at++;
  if (at === HEAD.length) return undefined;
  const index = Number(data.slice(HEAD.length, at));
  const kind = FIELD_HEADS.find(({ head }) => data.startsWith(head, at));
  if (kind === undefined) return undefined;
  const start = at + kind.head.length;
  const end = data.length - TAIL.length;
  if (end < start) return undefined;
  const raw = data.slice(start, end);
  // No backslash: the string is the value itself, if no quote ends it early.
  if (!raw.includes('\\')) return raw.includes('"') ? undefined : { index, field: kind.field, value: raw };
  try {
    // JSON.parse both decodes the escapes and refuses an unescaped quote or a dangling backslash.
    return { index, field: kind.field, value: JSON.parse(`"${raw}"`) as string };
  } catch {
    return undefined;
  }
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** `formatDelta` writes a delta event's data in Anthropic's form. */
export function formatDelta(index: number, field: StreamedField, text: string): string {
  return `{"type":"content_block_delta","index":${index},"delta":{"type":"${STREAMED_FIELDS[field]}","${field}":${JSON.stringify(text)}}}`;
}
