import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import { CredentialUnavailableError, type CredentialProvider } from '../credentials/index.ts';
import { invalidProxyRequest, ProxyError } from './proxy-error.ts';

/** The fixed upstream: origin from config, one connection pool, the credential that holds the real key. */
export interface Upstream {
  origin: string;
  pool: Pool;
  credential: CredentialProvider;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface ForwardRequest {
  method: string;
  /** Rebuilt by classify from the route template; never the caller's raw path. */
  path: string;
  clientHeaders: IncomingHttpHeaders;
  body: Buffer | undefined;
  signal: CallerGone;
}

/**
 * An abort signal for the upstream call. undici takes an EventEmitter with `aborted` as a signal,
 * and one is far cheaper to make per request than an AbortController (an EventTarget).
 */
export class CallerGone extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

const VERSION = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `forward` sends the checked request upstream with the real key and returns the raw response.
 * Upstream headers are built from an allowlist, so caller credentials, hop-by-hop headers and
 * anything a `Connection` header names never leave the proxy; the key is set last. Redirects are
 * not followed (undici's request() never does). On a 401 the key is refreshed once (single-flight
 * in the provider) and the request retried, so a rotation in Secrets Manager is seamless.
 */
export async function forward(req: ForwardRequest, upstream: Upstream): Promise<Dispatcher.ResponseData> {
  const key = await currentKey(upstream.credential);
  const first = await send(req, upstream, key);
  if (first.statusCode !== 401) return first;
  await first.body.dump();
  const rotated = await upstream.credential.refreshAfterRejection(key).catch(unavailable);
  return send(req, upstream, rotated);
}

function send(req: ForwardRequest, upstream: Upstream, key: string): Promise<Dispatcher.ResponseData> {
  return upstream.pool
    .request({
      method: req.method as Dispatcher.HttpMethod,
      path: req.path,
      headers: upstreamHeaders(req.clientHeaders, key),
      body: req.body ?? null,
      signal: req.signal,
      headersTimeout: upstream.headersTimeoutMs,
      bodyTimeout: upstream.bodyTimeoutMs,
    })
    .catch((err: Error) => {
      if (req.signal.aborted) throw err;
      throw new ProxyError(502, 'api_error', 'upstream_unreachable', 'the Anthropic API could not be reached; retry later');
    });
}

function upstreamHeaders(client: IncomingHttpHeaders, key: string): Record<string, string> {
  const version = client['anthropic-version'];
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw invalidProxyRequest('anthropic_version_required', 'anthropic-version: header is required (e.g. 2023-06-01)');
  }
  const headers: Record<string, string> = { 'anthropic-version': version, 'accept-encoding': 'identity' };
  const beta = client['anthropic-beta'];
  if (beta !== undefined) headers['anthropic-beta'] = Array.isArray(beta) ? beta.join(',') : beta;
  for (const name of ['content-type', 'accept', 'user-agent'] as const) {
    const value = client[name];
    if (typeof value === 'string') headers[name] = value;
  }
  headers['x-api-key'] = key;
  return headers;
}

async function currentKey(credential: CredentialProvider): Promise<string> {
  return credential.current().catch(unavailable);
}

function unavailable(err: unknown): never {
  if (err instanceof CredentialUnavailableError) {
    throw new ProxyError(503, 'api_error', 'credential_unavailable', 'the upstream credential is unavailable; nothing was forwarded. Retry later');
  }
  throw err;
}

/** Response headers the caller sees: content type, Anthropic's request id, rate-limit and retry hints. */
export function responseHeaders(upstream: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (typeof value !== 'string') continue;
    if (name === 'content-type' || name === 'request-id' || name === 'retry-after' || name === 'retry-after-ms' || name === 'x-should-retry' || name.startsWith('anthropic-ratelimit-')) {
      out[name] = value;
    }
  }
  return out;
}
