import { parseStrictJson, StrictJsonError } from '../../json/strict-json.ts';
import { invalidProxyRequest, ProxyError } from '../proxy-error.ts';

// `fatal` turns invalid UTF-8 into an error instead of U+FFFD; `ignoreBOM` keeps a BOM in the text
// so JSON.parse refuses it (C-26) rather than the decoder silently dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A `\uD800`–`\uDFFF` escape: the only way a lone surrogate gets into JSON.parse's output. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * `parseJsonBody` returns the request body as a plain object, or throws the 400/413 ProxyError
 * that explains why it cannot be read safely. Rules, in order:
 * - larger than `limitBytes` → 413 `body_too_large` (C-18; the reader caps earlier, this is the backstop);
 * - not UTF-8 → 400 `invalid_utf8`;
 * - not JSON, a BOM, duplicate keys, `__proto__` / `constructor: {…}`, nesting deeper than the
 *   strict parser allows → 400 with the strict parser's problem as reason (C-24, C-26);
 * - a lone surrogate escape (`"\ud800"`) → 400 `lone_surrogate`: it cannot be re-encoded as UTF-8,
 *   so the upstream would read something else than the guard did (C-26);
 * - anything but an object at the top → 400 `body_not_object`.
 */
export function parseJsonBody(raw: Buffer, limitBytes: number): Record<string, unknown> {
  if (raw.length > limitBytes) {
    throw new ProxyError(413, 'request_too_large', 'body_too_large', `request body is ${raw.length} bytes; this proxy accepts at most ${limitBytes}`);
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw invalidProxyRequest('invalid_utf8', 'request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (err) {
    if (err instanceof StrictJsonError) throw invalidProxyRequest(err.problem, `request body: ${err.message}`);
    throw err;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidProxyRequest('body_not_object', 'request body must be a JSON object');
  }
  // Only texts that escape a surrogate can hold a lone one; well-formed pairs (Python's
  // ensure_ascii output for emoji) pass the walk.
  if (SURROGATE_ESCAPE.test(text) && !wellFormed(value)) {
    throw invalidProxyRequest('lone_surrogate', 'request body holds a lone UTF-16 surrogate escape (\\ud800–\\udfff without its pair)');
  }
  return value as Record<string, unknown>;
}

function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (Array.isArray(value)) return value.every(wellFormed);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).every(([k, v]) => k.isWellFormed() && wellFormed(v));
  }
  return true;
}

/** Reads a field that must be a safe positive integer (`max_tokens`): 1e400, -0, 1.5 and 2^53+1 are refused (C-26). */
export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
