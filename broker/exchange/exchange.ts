import { BrokerError, invalidToken, storeUnavailable } from '../errors.ts';
import type { AuditRecord } from '../audit/audit-record.ts';
import { identityFields, recordEvent } from '../audit/record-event.ts';
import type { CompiledPolicy } from '../policy/compile-policies.ts';
import { narrowGrant, NarrowingError } from '../policy/grant.ts';
import { matchPolicy } from '../policy/match-policy.ts';
import { StoreUnavailableError, type JtiSpend, type Store } from '../store/store.ts';
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
 * `exchangeToken` turns an OIDC ID token into a skillgate token: verify → match a policy →
 * narrow its grant → mint → store. The store step spends the jti, keeps the token and records the
 * granted event in one transaction; a denial is recorded on its own. Nothing else writes.
 */
export async function exchangeToken(req: ExchangeRequest, deps: ExchangeDeps): Promise<MintedToken> {
  const record: AuditRecord = { type: 'token.exchange', at: deps.now(), outcome: 'denied', requestId: req.requestId };
  const data: Record<string, unknown> = { subjectTokenHash: hashToken(req.subjectToken) };
  try {
    const verified = await verifyIdToken(req.subjectToken, deps);
    Object.assign(record, identityFields(verified.claims));
    Object.assign(data, { issuer: verified.issuer.name, claims: verified.claims });
    const policy = matchPolicy(verified.claims, verified.issuer, deps.policies);
    data['policy'] = policy.name;
    const minted = mintToken(verified.claims, verified.issuer, policy, narrow(policy, req), deps.now());
    const { record: token } = minted;
    const granted: AuditRecord = { ...record, outcome: 'granted', session: token.id, data: { ...data, tokenHash: token.tokenHash, scopes: token.scopes, expiresAt: token.expiresAt } };
    if ((await deps.store.commitExchange(jtiSpend(verified), token, granted)) === 'replayed') {
      throw invalidToken('replayed', 'this ID token was already exchanged; request a new one for each exchange');
    }
    return minted;
  } catch (err) {
    const denial = asBrokerError(err);
    await recordEvent(deps.store, { ...record, reason: denial.reason, data: { ...data, ...denial.detail, status: denial.status } }).catch(() => undefined);
    throw denial;
  }
}

/** `(iss, jti)` is single-use; the row outlives the token's exp so a replay is caught until then. */
function jtiSpend({ issuer, claims }: VerifiedIdToken): JtiSpend {
  return { iss: issuer.issuer, jti: claims['jti'] as string, expiresAt: ((claims['exp'] as number) + issuer.clockToleranceSec) * 1000 };
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
