import { BrokerError, invalidToken, storeUnavailable } from '../errors.ts';
import { recordEvent } from '../events/record-event.ts';
import type { CompiledPolicy } from '../policy/compile-policies.ts';
import { narrowGrant, NarrowingError } from '../policy/grant.ts';
import { matchPolicy } from '../policy/match-policy.ts';
import { StoreUnavailableError, type BrokerEvent, type Store } from '../store/store.ts';
import type { IssuerKeys } from './issuer-keys.ts';
import type { IssuerSpec } from './issuers.ts';
import { mintToken, type MintedToken } from './mint-token.ts';
import { hashToken } from './token-format.ts';
import { verifyIdToken, type VerifiedIdToken } from './verify-id-token.ts';

export interface ExchangeDeps {
  issuers: readonly IssuerSpec[];
  policies: readonly CompiledPolicy[];
  keys: IssuerKeys;
  store: Store;
  now: () => number;
}

export interface ExchangeRequest {
  subjectToken: string;
  scope?: string;
  requestedTtlSec?: number;
  requestId: string;
}

/**
 * `exchangeToken` turns an OIDC ID token into a skillgate token: verify → spend the jti → match
 * a policy → narrow its grant → mint → store. Every attempt, granted or denied, is recorded.
 */
export async function exchangeToken(req: ExchangeRequest, deps: ExchangeDeps): Promise<MintedToken> {
  const event: BrokerEvent = { type: 'token.exchange', at: deps.now(), outcome: 'denied', requestId: req.requestId, subjectTokenHash: hashToken(req.subjectToken) };
  let verified: VerifiedIdToken | undefined;
  try {
    verified = await verifyIdToken(req.subjectToken, deps);
    await spendJti(verified, deps.store);
    const policy = matchPolicy(verified.claims, verified.issuer, deps.policies);
    event.policy = policy.name;
    const minted = mintToken(verified.claims, verified.issuer, policy, narrow(policy, req), deps.now());
    await deps.store.insertToken(minted.record);
    Object.assign(event, { outcome: 'granted', tokenId: minted.record.id, tokenHash: minted.record.tokenHash, detail: { scopes: minted.record.scopes, expiresAt: minted.record.expiresAt } });
    return minted;
  } catch (err) {
    const denial = asBrokerError(err);
    Object.assign(event, { reason: denial.reason, detail: { ...denial.detail, status: denial.status } });
    throw denial;
  } finally {
    if (verified) Object.assign(event, { issuer: verified.issuer.name, claims: verified.claims });
    await recordEvent(deps.store, event).catch(() => {
      // A mint whose event cannot be written is not handed out: fail closed.
      if (event.outcome === 'granted') throw storeUnavailable('cannot record the exchange; no token was issued');
    });
  }
}

/** `(iss, jti)` is single-use; the row outlives the token's exp so a replay is caught until then. */
async function spendJti({ issuer, claims }: VerifiedIdToken, store: Store): Promise<void> {
  const expiresAt = ((claims['exp'] as number) + issuer.clockToleranceSec) * 1000;
  if (!(await store.consumeJti(issuer.issuer, claims['jti'] as string, expiresAt))) {
    throw invalidToken('replayed', 'this ID token was already exchanged; request a new one for each exchange');
  }
}

function narrow(policy: CompiledPolicy, req: ExchangeRequest) {
  try {
    return narrowGrant(policy.grant, req.scope, req.requestedTtlSec);
  } catch (err) {
    if (err instanceof NarrowingError) throw new BrokerError(err.reason === 'invalid_ttl' ? 'invalid_request' : 'invalid_scope', err.reason, err.message, { policy: policy.name });
    throw err;
  }
}

function asBrokerError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof StoreUnavailableError) return storeUnavailable('the token store is unavailable; no token was issued, retry later');
  throw err;
}
