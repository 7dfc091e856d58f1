import type { IncomingHttpHeaders } from 'node:http';
import { authenticateToken, bearerToken, TokenRefusedError } from '../auth/authenticate-token.ts';
import { hashToken } from '../exchange/token-format.ts';
import type { Store, TokenRecord } from '../store/store.ts';
import { ProxyError } from './proxy-error.ts';

const CACHE_LIMIT = 10_000;

/**
 * `createAuthenticator` returns the proxy's first stage: the caller's skillgate token from
 * `x-api-key` or `Authorization: Bearer` (SDK 1.x sends the latter, older clients the former,
 * claude-code-action both) → its live record. Records are cached in memory, but the whole cache is
 * dropped whenever the store's revocation epoch moves, so a revocation bites on the next request.
 */
export function createAuthenticator(store: Store, now: () => number) {
  const cache = new Map<string, TokenRecord>();
  let epoch = -1;

  return async function authenticate(headers: IncomingHttpHeaders): Promise<TokenRecord> {
    const token = presentedToken(headers);
    const current = await store.revocationEpoch();
    if (current !== epoch) {
      cache.clear();
      epoch = current;
    }
    const cached = token === undefined ? undefined : cache.get(hashToken(token));
    if (cached && cached.expiresAt > now()) return cached;
    try {
      const record = await authenticateToken(store, token, now());
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
      cache.set(record.tokenHash, record);
      return record;
    } catch (err) {
      if (err instanceof TokenRefusedError) throw new ProxyError(401, 'authentication_error', err.reason, err.message);
      throw err;
    }
  };
}

/** Both headers may carry the token (claude-code-action sends it twice); two different values are refused. */
function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['x-api-key'];
  const bearer = bearerToken(headers.authorization);
  if (Array.isArray(apiKey)) throw new ProxyError(401, 'authentication_error', 'token_ambiguous', 'send one x-api-key header');
  if (apiKey !== undefined && bearer !== undefined && apiKey !== bearer) {
    throw new ProxyError(401, 'authentication_error', 'token_ambiguous', 'x-api-key and Authorization carry different credentials; send your skillgate token in one of them');
  }
  return apiKey ?? bearer;
}
