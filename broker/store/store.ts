import type { AuditFilter, AuditLink, AuditRecord, ChainCheck, StoredAuditRecord } from '../audit/audit-record.ts';
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

/** One running broker process sharing the store. */
export interface BrokerInstance {
  id: string;
  pid: number;
  host: string;
}

export interface TokenFilter {
  /** Only tokens neither revoked nor expired at `now`. */
  active?: boolean;
  now?: number;
  policy?: string;
  repositoryId?: string;
  /** Only tokens not revoked, expired or not (the reconciler closes out the expired ones). */
  open?: boolean;
  limit?: number;
}

/** A reconciler run's report as kept in the store, so every replica serves it and the next run charts it. */
export interface StoredReport {
  id: string;
  startedAt: number;
  finishedAt: number;
  /** The few fields report lists show (counts by outcome and reason), as JSON. */
  summary: Record<string, unknown>;
  /** The whole report document (JSON text). */
  body: string;
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
  /** Appends to the hash-chained audit log; resolves with the record's link once durably committed (group commit). */
  appendAudit(record: AuditRecord): Promise<AuditLink>;
  queryAudit(filter: AuditFilter): Promise<{ records: StoredAuditRecord[]; nextCursor: number | undefined }>;
  auditSession(sessionId: string): Promise<StoredAuditRecord[]>;
  /** Walks the whole chain and names the first broken link; with a checkpoint, also that the chain still reaches it. */
  verifyAudit(checkpoint?: AuditLink): Promise<ChainCheck>;
  /** The last link of the chain (none while the trail is empty). */
  auditHead(): Promise<AuditLink | undefined>;
  /** Marks a broker process (id, pid, host) alive; `closeInterrupted` leaves the open calls of live processes alone. */
  heartbeat(instance: BrokerInstance, now: number): Promise<void>;
  /**
   * Closes `proxy.request` records that never got an outcome as `interrupted` — calls of processes
   * that are gone (on this host: the pid no longer exists; elsewhere: no heartbeat within
   * `liveWithinMs`), never those of a live replica. Returns how many.
   */
  closeInterrupted(now: number, liveWithinMs: number): Promise<number>;
  /** Drops used-jti rows whose token has expired (they can no longer be replayed). */
  pruneJtis(now: number): Promise<number>;
  ping(): Promise<void>;
  /** Takes and releases the write lock: proves the store can write right now (readiness). */
  probeWrite(): Promise<void>;
  /**
   * Takes or renews the named lease for `holder` until `now + ttlMs`; false while another holder's
   * lease is live. One conditional upsert, so it elects one reconciler across every process sharing
   * the store (the same statement works on PostgreSQL).
   */
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, only if `holder` still holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Token ids with a `proxy.request` at or after `since`, each with its latest one: the reconciler's
   * "last used", read from the audit trail the proxy already writes (no write on the request path).
   */
  lastUsedSince(since: number): Promise<Map<string, number>>;
  saveReport(report: StoredReport): Promise<void>;
  /** Newest first, without bodies. */
  listReports(limit: number): Promise<Omit<StoredReport, 'body'>[]>;
  getReport(id: string): Promise<StoredReport | undefined>;
  close(): Promise<void>;
}
