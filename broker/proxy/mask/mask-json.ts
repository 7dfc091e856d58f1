import { maskTextWith } from './mask-text.ts';
import { mayContainSecret, type Scanner } from './scanner.ts';

/** A masked JSON value and how many replacements it took. */
export interface MaskedJson {
  value: unknown;
  count: number;
}

/** A masked body and how many replacements it took. */
export interface MaskedBody {
  body: Buffer;
  count: number;
}

interface Counter {
  count: number;
}

// Copy-on-write: an unchanged subtree is returned as is, so a clean body allocates nothing.
function walk(scanner: Scanner, value: unknown, counter: Counter): unknown {
  if (typeof value === 'string') {
    const masked = maskTextWith(scanner, value);
    counter.count += masked.count;
    return masked.text;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const masked = walk(scanner, item, counter);
      if (masked !== item) (out ??= [...value])[i] = masked;
    });
    return out ?? value;
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const entries = Object.entries(value).map(([key, item]): [string, unknown] => {
      const maskedKey = walk(scanner, key, counter) as string;
      const masked = walk(scanner, item, counter);
      changed ||= maskedKey !== key || masked !== item;
      return [maskedKey, masked];
    });
    // fromEntries defines own properties, so a `__proto__` key stays data and never a prototype.
    return changed ? Object.fromEntries(entries) : value;
  }
  return value;
}

/**
 * `maskJsonWith` masks every string leaf and every object key of a JSON value (tool inputs are
 * model-written, keys included). Nothing is exempt: opaque fields such as thinking signatures or
 * `encrypted_content` are base64 ciphertext that no rule matches in practice, and exempting a field
 * by name would give a prompt-injected model a channel around the masker. Two keys that mask to the
 * same text collapse into one (the later wins).
 */
export function maskJsonWith(scanner: Scanner, value: unknown): MaskedJson {
  const counter = { count: 0 };
  const masked = walk(scanner, value, counter);
  return { value: masked, count: counter.count };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

// Batch results are JSON Lines: mask line by line, keeping line endings and untouched lines as they are.
function maskJsonLines(scanner: Scanner, text: string): { text: string; count: number } | undefined {
  let count = 0;
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const parsed = tryParse(line);
    if (!parsed.ok) return undefined;
    const masked = maskJsonWith(scanner, parsed.value);
    if (masked.count === 0) continue;
    count += masked.count;
    lines[i] = JSON.stringify(masked.value) + (line.endsWith('\r') ? '\r' : '');
  }
  return { text: lines.join('\n'), count };
}

/**
 * `maskJsonBodyWith` masks a response body: JSON is parsed, masked leaf by leaf and re-serialised;
 * JSON Lines line by line; anything else as text. A body with nothing to mask is returned as the
 * same bytes, untouched.
 */
export function maskJsonBodyWith(scanner: Scanner, body: Buffer): MaskedBody {
  const text = body.toString('utf8');
  if (!mayContainSecret(scanner, text)) return { body, count: 0 };
  const parsed = tryParse(text);
  if (parsed.ok) {
    const masked = maskJsonWith(scanner, parsed.value);
    return masked.count === 0 ? { body, count: 0 } : { body: Buffer.from(JSON.stringify(masked.value)), count: masked.count };
  }
  const masked = maskJsonLines(scanner, text) ?? maskTextWith(scanner, text);
  return masked.count === 0 ? { body, count: 0 } : { body: Buffer.from(masked.text), count: masked.count };
}
