import type { IncomingMessage } from 'node:http';
import { isMultipart, parseMultipart, type MultipartPart } from './multipart.ts';

export type ParsedQuery = Record<string, string | string[]>;

export interface RecordedPart {
  name: string;
  filename?: string;
  size: number;
}

/** What the stub saw on the wire, kept so tests can assert on it (e.g. which key arrived). */
export interface RecordedRequest {
  method: string;
  /** Path as received, still percent-encoded, without the query. */
  path: string;
  /** Raw query string without the leading `?` (`''` when absent). */
  query: string;
  /** The query parsed: `k[]=v` and `k%5B%5D=v` both become `{ k: ['v'] }`. */
  parsedQuery: ParsedQuery;
  /** Lower-case names; a header sent more than once (e.g. `anthropic-beta`) is an array. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Present for `multipart/form-data` bodies that parsed. */
  parts?: RecordedPart[];
}

/**
 * `parseQuery` parses a raw query string. Bracketed keys (Stainless `arrayFormat: 'brackets'`)
 * always yield arrays; a plain key repeated also yields an array.
 */
export function parseQuery(raw: string): ParsedQuery {
  const out: ParsedQuery = {};
  for (const [rawKey, value] of new URLSearchParams(raw)) {
    const bracketed = rawKey.endsWith('[]');
    const key = bracketed ? rawKey.slice(0, -2) : rawKey;
    const prior = out[key];
    if (prior === undefined) out[key] = bracketed ? [value] : value;
    else out[key] = Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function distinctHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values === undefined) continue;
    out[name] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return out;
}

/**
 * `recordRequest` reads the whole request and returns its record plus the parsed multipart parts
 * (handlers reuse them, so a body is parsed once). Reading everything first is deliberate: the
 * stub is a test double and must see exactly what the proxy sent, even for requests it refuses.
 */
export async function recordRequest(
  req: IncomingMessage,
): Promise<{ record: RecordedRequest; parts: MultipartPart[] | undefined }> {
  const body = await readBody(req);
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
  const contentType = req.headers['content-type'];
  const parts = isMultipart(contentType) ? await parseMultipart(body, contentType) : undefined;
  const record: RecordedRequest = {
    method: req.method ?? 'GET',
    path,
    query,
    parsedQuery: parseQuery(query),
    headers: distinctHeaders(req),
    body,
    ...(parts ? { parts: parts.map(summarisePart) } : {}),
  };
  return { record, parts };
}

function summarisePart(part: MultipartPart): RecordedPart {
  return {
    name: part.name,
    ...(part.filename !== undefined ? { filename: part.filename } : {}),
    size: part.data.length,
  };
}
