import { randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `base62` returns `length` random base62 characters (the alphabet of Anthropic's ids). */
export function base62(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += BASE62[byte % 62];
  return out;
}

/** `newId` returns an Anthropic-shaped id such as `skill_01…` or `msg_01…` (24 chars after `_01`). */
export function newId(prefix: string): string {
  return `${prefix}_01${base62(24)}`;
}

/** `newRequestId` returns a `req_…` value for the `request-id` header and the error envelope. */
export function newRequestId(): string {
  return `req_011CStub${base62(16)}`;
}

/** `isoAt` returns an RFC 3339 timestamp `offsetMs` from now (negative for the past). */
export function isoAt(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
