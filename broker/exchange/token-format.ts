import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * skillgate tokens look like GitHub's: `sgt_` + 32 base62 characters of randomness (190 bits) +
 * 6 base62 characters of CRC32 over them. The prefix lets secret scanners find leaked tokens and
 * the checksum lets them (and the proxy) reject typos and fakes without a store lookup.
 */
export const TOKEN_PREFIX = 'sgt_';
const RANDOM_CHARS = 32;
const CHECKSUM_CHARS = 6;
export const TOKEN_PATTERN = /^sgt_[0-9A-Za-z]{38}$/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(bytes: Buffer, length: number): string {
  let out = '';
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  for (const b of bytes) {
    if (b >= 248) continue;
    out += BASE62[b % 62];
    if (out.length === length) return out;
  }
  return out + base62(randomBytes(length), length - out.length);
}

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** `generateToken` returns a fresh token string. */
export function generateToken(): string {
  const body = base62(randomBytes(RANDOM_CHARS + 8), RANDOM_CHARS);
  return `${TOKEN_PREFIX}${body}${checksum(body)}`;
}

/** `isWellFormedToken` checks prefix, alphabet, length and checksum. */
export function isWellFormedToken(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const body = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + RANDOM_CHARS);
  return checksum(body) === token.slice(TOKEN_PREFIX.length + RANDOM_CHARS);
}

/** `hashToken` is the only form in which a token (or a presented OIDC token) is ever stored or logged. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** `generateId` returns a public identifier such as `tok_…` that is safe to show and log. */
export function generateId(prefix: string): string {
  return `${prefix}_${base62(randomBytes(24), 16)}`;
}
