/**
 * Metering for the Admin usage report: a `/v1/messages` reply is watched on its way out and the
 * `usage` it carried is booked against the API key that made the request, so the report shows
 * what the stub actually served — a refused request books nothing, a truncated stream books what
 * its `message_start` announced. Watching the wire keeps `messages.ts` unaware of metering.
 */
import type { ServerResponse } from 'node:http';
import type { Route, StubContext } from './context.ts';
import type { RecordedRequest } from './recording.ts';

interface ReplyUsage {
  input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null;
  output_tokens?: number;
  server_tool_use?: { web_search_requests?: number } | null;
}

interface Seen {
  usage: ReplyUsage | undefined;
  model: string | undefined;
}

/** `meterUsage` returns `routes` with `POST /v1/messages` metered; other routes are untouched. */
export function meterUsage(routes: readonly Route[]): Route[] {
  return routes.map((route) =>
    route.method === 'POST' && route.path === '/v1/messages' ? { ...route, handle: (ctx: StubContext) => (ctx.state.settings.retain ? metered(ctx, route) : route.handle(ctx)) } : route,
  );
}

async function metered(ctx: StubContext, route: Route): Promise<void> {
  const seen = watch(ctx.res);
  await route.handle(ctx);
  if (ctx.res.statusCode !== 200 || seen.usage === undefined) return;
  const { usage } = seen;
  const admin = ctx.state.admin;
  admin.addUsage({
    at: Date.now(),
    apiKeyId: admin.keyIdFor(presentedKey(ctx.record)),
    model: seen.model ?? 'unknown',
    uncachedInputTokens: usage.input_tokens ?? 0,
    cacheReadInputTokens: usage.cache_read_input_tokens ?? 0,
    cacheCreation5mTokens: usage.cache_creation?.ephemeral_5m_input_tokens ?? 0,
    cacheCreation1hTokens: usage.cache_creation?.ephemeral_1h_input_tokens ?? 0,
    outputTokens: usage.output_tokens ?? 0,
    webSearchRequests: usage.server_tool_use?.web_search_requests ?? 0,
  });
}

/** The key a request presented: `x-api-key` (older clients) or a Bearer key (SDK 1.x). */
function presentedKey(record: RecordedRequest): string | undefined {
  const apiKey = record.headers['x-api-key'];
  if (typeof apiKey === 'string') return apiKey;
  const authorization = record.headers['authorization'];
  return typeof authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(authorization)?.[1] : undefined;
}

/**
 * `watch` wraps `write` and `end` of one response to read the usage out of a JSON message or the
 * `message_start` / `message_delta` events of a stream; `message_delta` carries the final counts.
 */
function watch(res: ServerResponse): Seen {
  const seen: Seen = { usage: undefined, model: undefined };
  const look = (chunk: unknown) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    if (text === undefined) return;
    const sse = /^event: (message_start|message_delta)\ndata: (.*)\n/.exec(text);
    const json = sse ? sse[2] : text.startsWith('{"id":"msg_') ? text : undefined;
    if (json === undefined) return;
    const data = JSON.parse(json) as { model?: string; usage?: ReplyUsage; message?: { model?: string; usage?: ReplyUsage } };
    const message = data.message ?? data;
    seen.model ??= message.model;
    seen.usage = data.usage ?? message.usage ?? seen.usage;
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((...args: unknown[]) => {
    look(args[0]);
    return write(...args);
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    look(args[0]);
    return end(...args);
  }) as ServerResponse['end'];
  return seen;
}
