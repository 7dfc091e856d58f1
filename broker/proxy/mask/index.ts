/**
 * The proxy's response masker (security.md §C.3, §E), with no HTTP in it.
 *
 * - Replacement: `[MASKED:<rule name>]`, `[MASKED:known-secret]` for exact values. It holds no
 *   quote, backslash or control character, so JSON and SSE stay valid wherever it lands.
 * - What is masked: exact values with their encodings (`exact-values.ts`), then the built-in
 *   patterns (`patterns.ts`), then operator rules; on decoded text, every string leaf and key.
 * - Streams: parsed as the SDK parses them; each content block's text, thinking and tool-input
 *   strings are masked as one text with a bounded hold-back (`text-stream.ts`).
 */
export { createMasker, DEFAULT_MAX_HOLD_BACK, type Masker, type MaskerOptions } from './masker.ts';
export { createStreamMasker, type StreamMasker } from './mask-stream.ts';
export { BUILTIN_RULES, type MaskRule } from './patterns.ts';
export { maskMarker, EXACT_RULE_NAME } from './scanner.ts';
export type { MaskedBody, MaskedJson } from './mask-json.ts';
export type { MaskedText } from './mask-text.ts';
