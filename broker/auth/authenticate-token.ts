import { BrokerError } from '../errors.ts';
import { hashToken, isWellFormedToken } from '../exchange/token-format.ts';
import type { Store, TokenRecord } from '../store/store.ts';

/** Why a skillgate token was refused; the proxy maps these onto Anthropic's error envelope. */
export type TokenRefusal = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';

export class TokenRefusedError extends BrokerError {
  constructor(readonly refusal: TokenRefusal, message: string) {
    super('invalid_token', `token_${refusal}`, message);
  }
}

/**
 * `authenticateToken` returns the record of a live skillgate token or throws TokenRefusedError.
 * The checksum is checked first so garbage never costs a store lookup; revocation and expiry are
 * read from the store on every call, so they take effect on the very next request.
 */
export async function authenticateToken(store: Store, token: string | undefined, now: number): Promise<TokenRecord> {
  if (token === undefined || token === '') throw new TokenRefusedError('missing', 'no skillgate token; send it as Authorization: Bearer or x-api-key');
  if (!isWellFormedToken(token)) throw new TokenRefusedError('malformed', 'this is not a skillgate token (sgt_…); exchange an OIDC token at /v1/token first');
  const record = await store.findTokenByHash(hashToken(token));
  if (!record) throw new TokenRefusedError('unknown', 'unknown skillgate token; exchange an OIDC token at /v1/token for a new one');
  if (record.revokedAt !== undefined) throw new TokenRefusedError('revoked', `token ${record.id} was revoked (${record.revokedReason ?? 'no reason given'}); exchange a new one`);
  if (record.expiresAt <= now) throw new TokenRefusedError('expired', `token ${record.id} has expired; exchange a new one`);
  return record;
}

/** `bearerToken` reads a token from `Authorization: Bearer …`. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}
