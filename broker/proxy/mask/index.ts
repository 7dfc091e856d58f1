export { createMasker, DEFAULT_MAX_HOLD_BACK, type Masker, type MaskerOptions } from './masker.ts';
export { createStreamMasker, type StreamMasker } from './mask-stream.ts';
export { BUILTIN_RULES, type MaskRule } from './patterns.ts';
export { maskMarker, EXACT_RULE_NAME } from './scanner.ts';
export type { MaskedBody, MaskedJson } from './mask-json.ts';
export type { MaskedText } from './mask-text.ts';
