import type { StubContext } from './context.ts';
import { queryValue } from './context.ts';
import { invalidRequest } from './errors.ts';

/** `readLimit` reads `limit` the way the API validates it: an integer in 1..max. */
export function readLimit(ctx: StubContext, defaultLimit: number, max: number): number {
  const raw = queryValue(ctx, 'limit');
  if (raw === undefined) return defaultLimit;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw invalidRequest(`limit: Input should be an integer between 1 and ${max}`);
  }
  return limit;
}

/**
 * `idPage` is the `Page` shape (models, batches, beta files): `after_id` / `before_id` cursors
 * naming an item, answered with `{data, first_id, last_id, has_more}`.
 */
export function idPage<T extends { id: string }>(ctx: StubContext, items: readonly T[], defaultLimit: number, max: number) {
  const limit = readLimit(ctx, defaultLimit, max);
  const afterId = queryValue(ctx, 'after_id');
  const beforeId = queryValue(ctx, 'before_id');
  let data: T[];
  let hasMore: boolean;
  if (beforeId !== undefined) {
    const end = indexOrThrow(items, beforeId, 'before_id');
    data = items.slice(Math.max(0, end - limit), end);
    hasMore = end - limit > 0;
  } else {
    const start = afterId === undefined ? 0 : indexOrThrow(items, afterId, 'after_id') + 1;
    data = items.slice(start, start + limit);
    hasMore = start + limit < items.length;
  }
  return { data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}

function indexOrThrow(items: readonly { id: string }[], id: string, field: string): number {
  const index = items.findIndex((item) => item.id === id);
  if (index === -1) throw invalidRequest(`${field}: no object with id ${id}`);
  return index;
}

/**
 * `cursorPage` is the `PageCursor` shape (skills, GA files): an opaque `page` token answered with
 * `{data, has_more, next_page}`. The token encodes an offset; opaque to clients, simple here.
 */
export function cursorPage<T>(ctx: StubContext, items: readonly T[], defaultLimit = 20, max = 100) {
  const limit = readLimit(ctx, defaultLimit, max);
  const page = queryValue(ctx, 'page');
  const start = page === undefined ? 0 : decodeCursor(page);
  const data = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return { data, has_more: hasMore, next_page: hasMore ? encodeCursor(start + limit) : null };
}

function encodeCursor(offset: number): string {
  return `page_${Buffer.from(String(offset), 'utf8').toString('base64')}`;
}

function decodeCursor(token: string): number {
  const offset = Number(Buffer.from(token.replace(/^page_/, ''), 'base64').toString('utf8'));
  if (!token.startsWith('page_') || !Number.isInteger(offset) || offset < 0) {
    throw invalidRequest('page: invalid page token');
  }
  return offset;
}
