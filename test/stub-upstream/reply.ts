import type { StubContext } from './context.ts';
import { isoAt } from './ids.ts';

/**
 * `rateLimitHeaders` returns the `anthropic-ratelimit-*` set a real 200 carries (§1.5), so the
 * proxy's "pass rate-limit headers through" rule has something to pass.
 */
export function rateLimitHeaders(): Record<string, string> {
  const reset = isoAt(60_000);
  const headers: Record<string, string> = { 'anthropic-organization-id': 'stub-org-0000' };
  const limits = { requests: 4000, tokens: 800_000, 'input-tokens': 400_000, 'output-tokens': 80_000 };
  for (const [name, limit] of Object.entries(limits)) {
    headers[`anthropic-ratelimit-${name}-limit`] = String(limit);
    headers[`anthropic-ratelimit-${name}-remaining`] = String(limit - 1);
    headers[`anthropic-ratelimit-${name}-reset`] = reset;
  }
  return headers;
}

/** `sendJson` answers with a JSON body; the SDK only parses bodies typed `application/json`. */
export function sendJson(ctx: StubContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  ctx.res.writeHead(status, {
    ...(status === 200 ? rateLimitHeaders() : {}),
    ...headers,
    'content-type': 'application/json',
    'content-length': String(payload.length),
  });
  ctx.res.end(payload);
}

/** `sendBytes` answers with a binary or text body of the given type (zip, JSONL, file content). */
export function sendBytes(ctx: StubContext, contentType: string, data: Buffer): void {
  ctx.res.writeHead(200, {
    ...rateLimitHeaders(),
    'content-type': contentType,
    'content-length': String(data.length),
  });
  ctx.res.end(data);
}
