/**
 * JSON parsing that refuses what a second parser could read differently: duplicate keys (one
 * parser keeps the first, another the last) and prototype-poisoning keys (`__proto__`, and
 * `constructor` holding an object), as fastify's own parser does.
 * JSON.parse does the parsing and validation; a scan of the already-valid text finds duplicates.
 */
export type StrictJsonProblem = 'invalid_json' | 'duplicate_key' | 'prototype_key' | 'too_deep';

/**
 * Deepest nesting accepted. Real claims nest a few levels; JSON.stringify overflows the stack
 * near 4 500, and a value the audit log cannot serialise must not get past the parser.
 */
export const MAX_JSON_DEPTH = 64;

export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
  constructor(
    readonly problem: StrictJsonProblem,
    message: string,
  ) {
    super(message);
  }
}


/** `parseStrictJson` returns the parsed value or throws a StrictJsonError naming the problem. */
export function parseStrictJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StrictJsonError('invalid_json', `not valid JSON: ${(err as Error).message}`);
  }
  // Scalars can neither hold duplicates nor nest; skip the scan for them.
  if (text.includes('{') || text.includes('[')) checkKeys(text);
  return value;
}

/** Walks valid JSON text keeping one set of seen keys per open object, and the nesting depth. */
function checkKeys(text: string): void {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = endOfString(text, i);
      if (expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        const seen = stack[stack.length - 1];
        if (key === '__proto__' || (key === 'constructor' && opensObject(text, end + 1))) {
          throw new StrictJsonError('prototype_key', `object key "${key}" is not allowed`);
        }
        if (seen?.has(key)) throw new StrictJsonError('duplicate_key', `object key "${truncate(key)}" appears twice`);
        seen?.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
      if (stack.length > MAX_JSON_DEPTH) throw new StrictJsonError('too_deep', `nests deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      // After a comma inside an object the next string is a key; inside an array it is a value.
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
}

function endOfString(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    // Count the backslashes before the quote: an odd number escapes it.
    let backslashes = 0;
    for (let j = q - 1; text.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return q;
    i = q + 1;
  }
}

/** True when the value after the `:` that follows `from` is an object (`"constructor": {…}`). */
function opensObject(text: string, from: number): boolean {
  const match = /^\s*:\s*(.)/.exec(text.slice(from, from + 64));
  return match?.[1] === '{';
}

const truncate = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
