import type { AuditFilter, AuditRecord, ChainCheck, StoredAuditRecord } from '../audit/audit-record.ts';
import type { Scope } from '../config/schema.ts';

/** The claims a token was minted for, kept so every later call can be tied back to them. */
export interface TokenIdentity {
  iss: string;
  sub: string;
  repository?: string;
  repository_id?: string;
  repository_owner?: string;
  repository_owner_id?: string;
  repository_visibility?: string;
  run_id?: string;
  run_attempt?: string;
  run_number?: string;
  actor?: string;
  actor_id?: string;
  workflow_ref?: string;
  job_workflow_ref?: string;
  sha?: string;
  ref?: string;
  event_name?: string;
  environment?: string;
  email?: string;
}

/** A minted token as stored: the secret itself is never kept, only its SHA-256. */
export interface TokenRecord {
  id: string;
  tokenHash: string;
  policy: string;
  issuer: string;
  scopes: Scope[];
  identity: TokenIdentity;
  issuedAt: number;
  expiresAt: number;
  revokedAt?: number;
  revokedReason?: string;
  revokedBy?: string;
}

/** A used OIDC token id, kept until the token's exp (plus tolerance) so it cannot be replayed. */
export interface JtiSpend {
  iss: string;
  jti: string;
  expiresAt: number;
}

export interface TokenFilter {
  /** Only tokens neither revoked nor expired at `now`. */
  active?: boolean;
  now?: number;
  policy?: string;
  repositoryId?: string;
  limit?: number;
}

/** Thrown by a store that cannot read or write; callers answer 503 and never proceed without it. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/**
 * What the broker needs from storage. Async so that a networked PostgreSQL store can implement
 * the same interface; the embedded SQLite store answers synchronously underneath.
 */
export interface Store {
  /**
   * Spends `(iss, jti)`, stores the minted token and its exchange event in one transaction:
   * either all three are durable or none is. 'replayed' (nothing written) when the jti was spent
   * before, atomically across every broker sharing the store.
   */
  commitExchange(spend: JtiSpend, token: TokenRecord, audit: AuditRecord): Promise<'committed' | 'replayed'>;
  findTokenByHash(tokenHash: string): Promise<TokenRecord | undefined>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  /** Marks a token revoked; false when it was unknown or already revoked. */
  revokeToken(id: string, reason: string, by: string, at: number): Promise<boolean>;
  listTokens(filter?: TokenFilter): Promise<TokenRecord[]>;
  /**
   * A number that changes whenever any token is revoked, by any process sharing the store. The
   * proxy's token cache is kept only while it stays the same, so a revocation bites on the next request.
   */
  revocationEpoch(): Promise<number>;
  /** Appends to the hash-chained audit log; resolves once durably committed (group commit). */
  appendAudit(record: AuditRecord): Promise<StoredAuditRecord>;
  queryAudit(filter: AuditFilter): Promise<{ records: StoredAuditRecord[]; nextCursor: number | undefined }>;
  auditSession(sessionId: string): Promise<StoredAuditRecord[]>;
  /** Walks the whole chain and names the first broken link. */
  verifyAudit(): Promise<ChainCheck>;
  /** Closes `proxy.request` records that never got an outcome (a crash) as `interrupted`; returns how many. */
  closeInterrupted(now: number): Promise<number>;
  /** Drops used-jti rows whose token has expired (they can no longer be replayed). */
  pruneJtis(now: number): Promise<number>;
  ping(): Promise<void>;
  /** Takes and releases the write lock: proves the store can write right now (readiness). */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
}
