/**
 * Exact-value masking for secrets skillgate knows (security.md §E.1-1, §0 item 18): the value itself
 * plus the encodings it commonly travels in, after the GitHub Actions runner's `ValueEncoders`.
 */

/** Values shorter than this would mask ordinary words (and their encodings, worse). */
export const MIN_EXACT_VALUE_LENGTH = 8;

/**
 * The stable part of base64(`bytes`): whole 3-byte groups only, no padding. Inside a larger base64
 * blob the last partial group depends on the bytes that follow, so only this part is predictable.
 */
function stableBase64(bytes: Buffer): string {
  return bytes.subarray(0, bytes.length - (bytes.length % 3)).toString('base64');
}

function toBase64Url(base64: string): string {
  return base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function escapeHtml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;');
}

/**
 * `encodeExactValue` returns `value` and its encodings, longest first, each at least
 * `MIN_EXACT_VALUE_LENGTH` characters long:
 * - base64 and base64url at byte offsets 0, 1 and 2 (a secret after a prefix of unknown length, as in
 *   `base64(user:password)`, starts at one of three alignments), plus the padded whole-value form;
 * - JSON string escape, URI component escape (also with `+` for spaces), HTML/XML escape (`&apos;`
 *   and `&#39;`), the runner's command-line (`"` → `\"`) and expression (`'` → `''`) escapes,
 *   the value without surrounding quotes, and lower/upper-case hex of the UTF-8 bytes.
 */
export function encodeExactValue(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const encodings = new Set<string>([value, bytes.toString('base64'), toBase64Url(bytes.toString('base64'))]);
  for (const shift of [0, 1, 2]) {
    const stable = stableBase64(bytes.subarray(shift));
    encodings.add(stable);
    encodings.add(toBase64Url(stable));
  }
  const uri = encodeURIComponent(value);
  encodings.add(JSON.stringify(value).slice(1, -1));
  encodings.add(uri);
  encodings.add(uri.replaceAll('%20', '+'));
  encodings.add(escapeHtml(value));
  encodings.add(escapeHtml(value).replaceAll('&apos;', '&#39;'));
  encodings.add(value.replaceAll('"', '\\"'));
  encodings.add(value.replaceAll("'", "''"));
  if (/^(["']).*\1$/s.test(value)) encodings.add(value.slice(1, -1));
  encodings.add(bytes.toString('hex'));
  encodings.add(bytes.toString('hex').toUpperCase());
  return [...encodings].filter((e) => e.length >= MIN_EXACT_VALUE_LENGTH).sort((a, b) => b.length - a.length);
}
