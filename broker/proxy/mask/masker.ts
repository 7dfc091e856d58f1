import { encodeExactValue, MIN_EXACT_VALUE_LENGTH } from './exact-values.ts';
import { maskJsonBodyWith, maskJsonWith, type MaskedBody, type MaskedJson } from './mask-json.ts';
import { maskTextWith, type MaskedText } from './mask-text.ts';
import { BUILTIN_RULES, type MaskRule } from './patterns.ts';
import { compileScanner, type Scanner } from './scanner.ts';

export interface MaskerOptions {
  /** Known secrets (the upstream key, operator-listed values); masked with their encodings. */
  exactValues?: readonly string[];
  /** Operator-defined rules, after the built-in ones. */
  patterns?: readonly MaskRule[];
  /** Include `BUILTIN_RULES`; default true. */
  builtinPatterns?: boolean;
  /**
   * The most characters a stream holds back per content block; default 512, at least 256 (every
   * built-in secret is recognisable by then). A candidate that outgrows it is sent masked whether or
   * not it is a match yet (fail closed) and the rest of its run is swallowed. It is also how much
   * every text is held when an operator rule has no literal prefix.
   */
  maxHoldBack?: number;
}

/**
 * Replaces secrets with `[MASKED:<rule name>]` (`[MASKED:known-secret]` for exact values). The
 * marker holds no quote, backslash or control character, so it keeps JSON and SSE valid wherever
 * it lands, and no built-in rule matches it, so masking twice changes nothing.
 */
export interface Masker {
  /**
   * Adds a known secret (a freshly minted token, the upstream key after rotation). A value under
   * 8 characters is ignored: masking it would mask ordinary words. (`exactValues` refuses one at
   * creation, where it is a configuration mistake; here it must not break the request path.)
   */
  addExactValue(value: string): void;
  maskText(text: string): MaskedText;
  /** Masks every string leaf and every object key; returns the input itself when nothing matched. */
  maskJson(value: unknown): MaskedJson;
  /** Parses, masks and re-serialises JSON (JSON Lines line by line, anything else as text); unchanged bytes when nothing matched. */
  maskJsonBody(body: Buffer): MaskedBody;
}

export const DEFAULT_MAX_HOLD_BACK = 512;
/** Every built-in secret is decided within this many characters (the longest, a Slack configuration token, takes 175). */
const MIN_HOLD_BACK = 256;

const scanners = Symbol('skillgate.mask.scanner');

interface MaskerWithScanner extends Masker {
  readonly [scanners]: () => Scanner;
}

/** `scannerOf` returns the live compiled rules of a masker made by `createMasker`. */
export function scannerOf(masker: Masker): () => Scanner {
  const current = (masker as Partial<MaskerWithScanner>)[scanners];
  if (current === undefined) throw new TypeError('expected a masker made by createMasker');
  return current;
}

function checkExactValue(value: string): void {
  if (value.length < MIN_EXACT_VALUE_LENGTH) {
    throw new RangeError(`an exact value to mask must be at least ${MIN_EXACT_VALUE_LENGTH} characters long (got ${value.length})`);
  }
}

/**
 * `createMasker` compiles the rules once (throwing one error that lists every bad rule) and
 * recompiles only the exact-value part when a value is added.
 */
export function createMasker(opts: MaskerOptions = {}): Masker {
  const maxHoldBack = opts.maxHoldBack ?? DEFAULT_MAX_HOLD_BACK;
  if (!Number.isInteger(maxHoldBack) || maxHoldBack < MIN_HOLD_BACK) {
    throw new RangeError(`maxHoldBack must be an integer of at least ${MIN_HOLD_BACK} (got ${maxHoldBack})`);
  }
  const rules = [...(opts.builtinPatterns === false ? [] : BUILTIN_RULES), ...(opts.patterns ?? [])];
  const exact = new Set<string>();
  for (const value of opts.exactValues ?? []) checkExactValue(value);
  for (const value of opts.exactValues ?? []) for (const literal of encodeExactValue(value)) exact.add(literal);

  const compile = (): Scanner => compileScanner(rules, [...exact].sort((a, b) => b.length - a.length), maxHoldBack);
  let scanner = compile();
  const current = (): Scanner => scanner;

  const masker: MaskerWithScanner = {
    [scanners]: current,
    addExactValue(value) {
      if (value.length < MIN_EXACT_VALUE_LENGTH) return;
      const before = exact.size;
      for (const literal of encodeExactValue(value)) exact.add(literal);
      if (exact.size !== before) scanner = compile();
    },
    maskText: (text) => maskTextWith(scanner, text),
    maskJson: (value) => maskJsonWith(scanner, value),
    maskJsonBody: (body) => maskJsonBodyWith(scanner, body),
  };
  return masker;
}
