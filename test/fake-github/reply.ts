import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GithubState } from './state.ts';

/** One request in flight, as route handlers see it. */
export interface GithubContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body of a write; `{}` for reads. */
  body: Record<string, unknown>;
  /** `http://127.0.0.1:PORT`: GitHub's own links point at api.github.com, ours at the fake. */
  base: string;
  state: GithubState;
  perPageMax: number;
  /** GitHub's `x-github-request-id`, also quoted by the secondary-rate-limit message. */
  requestId: string;
  /** `x-ratelimit-*` for this request, computed once before routing. */
  rateHeaders: Record<string, string>;
}

export const DOCS = 'https://docs.github.com/rest';

/**
 * `GithubError` is thrown by handlers; `server.ts` alone turns it into GitHub's error body
 * `{message, documentation_url, status}` (status as a string, as GitHub sends it).
 */
export class GithubError extends Error {
  override readonly name = 'GithubError';

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
    readonly documentationUrl = DOCS,
  ) {
    super(message);
  }
}

export const notFound = () => new GithubError(404, 'Not Found');

/** `sendJson` answers with JSON and the rate-limit headers GitHub puts on every response. */
export function sendJson(ctx: GithubContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  ctx.res.writeHead(status, {
    ...ctx.rateHeaders,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(payload.length),
    'x-github-media-type': 'github.v3; format=json',
  });
  ctx.res.end(payload);
}

/**
 * `paginate` answers one page of a list with a `Link` header formatted as GitHub does:
 * `<url>; rel="prev", <url>; rel="next", <url>; rel="last", <url>; rel="first"`, each present only
 * when it applies, the request's other query parameters kept. `linkPath` lets a route link to a
 * different path than it was called on (GitHub links org members via `/organizations/{id}`).
 */
export function paginate<T>(ctx: GithubContext, items: readonly T[], linkPath = ctx.path): { data: T[]; link?: string } {
  const perPage = clamp(Number(ctx.query.get('per_page') ?? 30) || 30, 1, ctx.perPageMax);
  const page = Math.max(1, Math.trunc(Number(ctx.query.get('page') ?? 1)) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const data = items.slice((page - 1) * perPage, page * perPage);
  const rels: [string, number][] = [];
  if (page > 1) rels.push(['prev', Math.min(page - 1, last)]);
  if (page < last) rels.push(['next', page + 1], ['last', last]);
  if (page > 1) rels.push(['first', 1]);
  if (rels.length === 0) return { data };
  const link = rels.map(([rel, n]) => `<${pageUrl(ctx, linkPath, n)}>; rel="${rel}"`).join(', ');
  return { data, link };
}

/** `sendPage` sends `paginate`'s result, rendering only the items on the page. */
export function sendPage<T>(ctx: GithubContext, items: readonly T[], view: (item: T) => unknown, linkPath?: string): void {
  const { data, link } = paginate(ctx, items, linkPath);
  sendJson(ctx, 200, data.map(view), link === undefined ? {} : { link });
}

function pageUrl(ctx: GithubContext, path: string, page: number): string {
  const query = new URLSearchParams(ctx.query);
  query.set('page', String(page));
  return `${ctx.base}${path}?${query.toString()}`;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

/** A route: `pattern` matches the whole path; its capture groups arrive percent-decoded. */
export interface GithubRoute {
  method: string;
  pattern: RegExp;
  handle(ctx: GithubContext, params: string[]): void;
}

/** `parseBody` returns the JSON body of a write, or throws GitHub's 400 "Problems parsing JSON". */
export function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to GitHub's answer
  }
  throw new GithubError(400, 'Problems parsing JSON');
}
