import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { idpUnavailable } from '../errors.ts';
import type { IssuerSpec } from './issuers.ts';

/** Limits on every request the broker makes to an issuer (discovery and JWKS). */
export interface IssuerFetchLimits {
  timeoutMs: number;
  maxBytes: number;
  /** How long fetched keys are trusted before they must be fetched again (jose cacheMaxAge). */
  cacheMaxAgeMs: number;
  /** Minimum gap between JWKS refetches triggered by unknown `kid`s (jose cooldownDuration). */
  cooldownMs: number;
}

export const DEFAULT_FETCH_LIMITS: IssuerFetchLimits = { timeoutMs: 5000, maxBytes: 100 * 1024, cacheMaxAgeMs: 10 * 60_000, cooldownMs: 30_000 };

/** Keys of the trusted issuers. One JWKS per issuer: keys are never looked up across issuers. */
export interface IssuerKeys {
  getKey(spec: IssuerSpec): JWTVerifyGetKey;
  /** True when the issuer's keys were fetched and are still within cacheMaxAge. */
  isWarm(spec: IssuerSpec): boolean;
  /** Fetches discovery and keys now (boot, readiness); throws idp_unavailable on failure. */
  warm(spec: IssuerSpec): Promise<void>;
}

/**
 * `createIssuerKeys` resolves each issuer's JWKS through OIDC discovery (or a configured
 * jwks_uri), with jose's cache, rotation refetch and cooldown. Every fetch is bounded in time and
 * size, never follows redirects, and only ever goes to issuers listed in config.
 */
export function createIssuerKeys(limits: IssuerFetchLimits = DEFAULT_FETCH_LIMITS): IssuerKeys {
  const sets = new Map<string, Promise<ReturnType<typeof createRemoteJWKSet>>>();

  const jwksFor = (spec: IssuerSpec) => {
    let pending = sets.get(spec.name);
    if (!pending) {
      pending = discoverJwksUri(spec, limits).then((uri) =>
        createRemoteJWKSet(new URL(uri), {
          timeoutDuration: limits.timeoutMs,
          cooldownDuration: limits.cooldownMs,
          cacheMaxAge: limits.cacheMaxAgeMs,
          [customFetch]: (url: string, init: RequestInit) => boundedFetch(url, init, spec, limits, checkJwks),
        }),
      );
      // A failed discovery is retried on the next token rather than cached as a failure forever.
      pending.catch(() => sets.delete(spec.name));
      sets.set(spec.name, pending);
    }
    return pending;
  };

  const settled = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  return {
    getKey: (spec) => async (header, token) => {
      const jwks = await jwksFor(spec);
      settled.set(spec.name, jwks);
      return jwks(header, token);
    },
    isWarm: (spec) => settled.get(spec.name)?.fresh === true,
    warm: async (spec) => {
      const jwks = await jwksFor(spec);
      settled.set(spec.name, jwks);
      try {
        await jwks.reload();
      } catch (err) {
        throw err instanceof Error && 'status' in err ? err : idpUnavailable(`cannot fetch the keys of issuer ${spec.name}`);
      }
    },
  };
}

async function discoverJwksUri(spec: IssuerSpec, limits: IssuerFetchLimits): Promise<string> {
  if (spec.jwksUri !== undefined) return spec.jwksUri;
  const response = await boundedFetch(`${spec.issuer}/.well-known/openid-configuration`, {}, spec, limits, () => undefined);
  const doc = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // The discovery document must speak for exactly the issuer we trust (OIDC Discovery §4.3).
  if (doc.issuer !== spec.issuer || typeof doc.jwks_uri !== 'string') {
    throw idpUnavailable(`issuer ${spec.name} published a discovery document for another issuer or without jwks_uri`);
  }
  const uri = new URL(doc.jwks_uri);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(uri.hostname);
  if (uri.protocol !== 'https:' && !(uri.protocol === 'http:' && loopback)) {
    throw idpUnavailable(`issuer ${spec.name} published a jwks_uri that is not https`);
  }
  return uri.href;
}

/** Fetch with a deadline, no redirects and a size cap; the body is read here, before jose sees it. */
async function boundedFetch(url: string, init: RequestInit, spec: IssuerSpec, limits: IssuerFetchLimits, check: (body: unknown) => void): Promise<Response> {
  const unavailable = (why: string) => idpUnavailable(`cannot fetch the keys of issuer ${spec.name} (${why}); retry later`, { url });
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(limits.timeoutMs) });
  } catch (err) {
    throw unavailable((err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable');
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw unavailable(`HTTP ${response.status}`);
  }
  const text = await readCapped(response, limits.maxBytes).catch((err: Error) => {
    throw unavailable(err.message);
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw unavailable('response is not JSON');
  }
  check(body);
  return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new Error(`response larger than ${maxBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    if (size > maxBytes) throw new Error(`response larger than ${maxBytes} bytes`);
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JWKS must be public keys only: a published private or symmetric key means the issuer is broken. */
function checkJwks(body: unknown): void {
  const keys = (body as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw idpUnavailable('issuer JWKS has no keys array');
  for (const key of keys as Record<string, unknown>[]) {
    if (key['d'] !== undefined || key['k'] !== undefined || key['kty'] === 'oct') {
      throw idpUnavailable('issuer JWKS publishes private or symmetric key material; refusing to use it');
    }
  }
}
