/**
 * One line of the audit trail. Everything the broker does that a security review asks about —
 * exchanges, revocations, proxied requests and their outcomes, denials, approvals, budget
 * refusals, reconciler actions — is one record. Records hold hashes, never a token or key, and
 * bodies only after masking.
 */
export type AuditType =
  | 'token.exchange'
  | 'token.revoke'
  | 'proxy.request'
  | 'proxy.outcome'
  | 'proxy.denied'
  | 'approval.requested'
  | 'approval.approved'
  | 'approval.denied'
  | 'approval.expired'
  | 'approval.used'
  | 'reconcile.revoke'
  | 'reconcile.flag';

export interface AuditRecord {
  type: AuditType;
  at: number;
  requestId?: string;
  /** The token id: all calls made with one token form a session. */
  session?: string;
  repository?: string;
  repositoryId?: string;
  runId?: string;
  pr?: string;
  actor?: string;
  operation?: string;
  /** granted / denied / ok / upstream_error / client_abort / interrupted / revoked … */
  outcome?: string;
  reason?: string;
  data?: Record<string, unknown>;
}

/** Where a record sits in the chain: its sequence number and the hash that ties it to the one before. */
export interface AuditLink {
  seq: number;
  hash: string;
}

/** A record as committed. */
export interface StoredAuditRecord extends AuditRecord, AuditLink {
  prevHash: string;
}

export interface AuditFilter {
  type?: string;
  session?: string;
  repository?: string;
  repositoryId?: string;
  runId?: string;
  pr?: string;
  actor?: string;
  operation?: string;
  outcome?: string;
  since?: number;
  until?: number;
  /** Records after this sequence number (cursor pagination, oldest first). */
  after?: number;
  limit?: number;
}

export type ChainCheck = { ok: true; records: number; head: string } | { ok: false; records: number; brokenAt: number; problem: string };

/**
 * A checkpoint is a link of the chain written down somewhere else (`<seq>:<hash>`): the chain can
 * prove its own records unchanged, but not that none were cut off its end. A trail that no longer
 * reaches a checkpoint, or reaches it with another hash, was truncated or rewritten.
 */
export const CHECKPOINT_PATTERN = '^[1-9][0-9]{0,15}:[0-9a-f]{64}$';

export function formatCheckpoint(link: AuditLink): string {
  return `${link.seq}:${link.hash}`;
}

/** `parseCheckpoint` reads `<seq>:<hash>`; undefined when it is not one. */
export function parseCheckpoint(text: string): AuditLink | undefined {
  if (!new RegExp(CHECKPOINT_PATTERN).test(text)) return undefined;
  const [seq = '', hash = ''] = text.split(':');
  return { seq: Number(seq), hash };
}

/** `auditFilter` keeps the fields that were given, so an absent option never becomes `key: undefined`. */
export function auditFilter(fields: { [K in keyof AuditFilter]?: AuditFilter[K] | undefined }): AuditFilter {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as AuditFilter;
}
