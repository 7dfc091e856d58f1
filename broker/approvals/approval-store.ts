import { openSqlite } from '../store/sqlite-connection.ts';
import { StoreUnavailableError } from '../store/store.ts';
import type { RequestSummary } from './approval-rules.ts';

/**
 * pending → approved → used (every use spent) | expired (valid_for passed);
 * pending → denied; pending → expired (nobody decided within the pending timeout).
 */
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

/** Who asked: the claims of the requesting token that an approver needs to judge (never the token). */
export type Requester = Record<string, string>;

/** One approval: bound to a token and the exact request fingerprint. */
export interface ApprovalRecord {
  id: string;
  state: ApprovalState;
  tokenId: string;
  policy: string;
  fingerprint: string;
  /** The request that asked first. */
  requestId: string;
  requester: Requester;
  summary: RequestSummary;
  /** Which of the policy's approval rules the request matched. */
  reasons: string[];
  justification?: string;
  /** Approver names the policy accepts. */
  approvers: string[];
  usesTotal: number;
  usesLeft: number;
  validForSec: number;
  createdAt: number;
  pendingUntil: number;
  decidedAt?: number;
  decidedBy?: string;
  decisionReason?: string;
  /** Set on approval: decidedAt + validForSec. */
  validUntil?: number;
  expiredAt?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  token_id TEXT NOT NULL,
  policy TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  request_id TEXT NOT NULL,
  requester TEXT NOT NULL,
  summary TEXT NOT NULL,
  reasons TEXT NOT NULL,
  justification TEXT,
  approvers TEXT NOT NULL,
  uses_total INTEGER NOT NULL,
  uses_left INTEGER NOT NULL,
  valid_for_sec INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  pending_until INTEGER NOT NULL,
  decided_at INTEGER,
  decided_by TEXT,
  decision_reason TEXT,
  valid_until INTEGER,
  expired_at INTEGER
);
CREATE INDEX IF NOT EXISTS approvals_request ON approvals (token_id, fingerprint, created_at);
CREATE INDEX IF NOT EXISTS approvals_open ON approvals (state) WHERE state IN ('pending', 'approved');
`;

interface ApprovalRow {
  id: string;
  state: ApprovalState;
  token_id: string;
  policy: string;
  fingerprint: string;
  request_id: string;
  requester: string;
  summary: string;
  reasons: string;
  justification: string | null;
  approvers: string;
  uses_total: number;
  uses_left: number;
  valid_for_sec: number;
  created_at: number;
  pending_until: number;
  decided_at: number | null;
  decided_by: string | null;
  decision_reason: string | null;
  valid_until: number | null;
  expired_at: number | null;
}

export interface ApprovalStore {
  /**
   * Inserts `record` unless its token already has an open (pending or approved) approval for the
   * same fingerprint, which is returned instead: two identical requests racing in ask once.
   */
  insertUnlessOpen(record: ApprovalRecord): ApprovalRecord;
  get(id: string): ApprovalRecord | undefined;
  /** The newest approval for this token and fingerprint. */
  latestFor(tokenId: string, fingerprint: string): ApprovalRecord | undefined;
  list(filter: { state?: ApprovalState; limit: number }): ApprovalRecord[];
  /** Records a decision on a pending approval that has not timed out; undefined when it was not pending any more. */
  decide(id: string, decision: { state: 'approved' | 'denied'; by: string; reason?: string; at: number }): ApprovalRecord | undefined;
  /** Spends one use of an approved, unexpired approval; false when none is left (another request won the race). */
  consume(id: string, at: number): boolean;
  /** Marks pending approvals past their timeout and approvals past valid_for expired; returns them. */
  expireDue(at: number): ApprovalRecord[];
  close(): void;
}

/**
 * `openApprovalStore` keeps approvals in their own table of the broker's SQLite file, on a
 * connection of its own. Every state change is one conditional UPDATE, so two brokers sharing
 * the file cannot both decide an approval or spend its last use.
 */
export function openApprovalStore(path: string, opts: { busyTimeoutMs?: number } = {}): ApprovalStore {
  const db = openSqlite(path, opts.busyTimeoutMs);
  db.exec(SCHEMA);
  const q = {
    insert: db.prepare(`INSERT INTO approvals (id, state, token_id, policy, fingerprint, request_id, requester, summary, reasons, justification, approvers,
      uses_total, uses_left, valid_for_sec, created_at, pending_until) VALUES (@id, @state, @token_id, @policy, @fingerprint, @request_id, @requester,
      @summary, @reasons, @justification, @approvers, @uses_total, @uses_left, @valid_for_sec, @created_at, @pending_until)`),
    get: db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?'),
    open: db.prepare<[string, string], ApprovalRow>(
      `SELECT * FROM approvals WHERE token_id = ? AND fingerprint = ? AND state IN ('pending', 'approved') ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    ),
    latest: db.prepare<[string, string], ApprovalRow>('SELECT * FROM approvals WHERE token_id = ? AND fingerprint = ? ORDER BY created_at DESC, rowid DESC LIMIT 1'),
    decide: db.prepare<[{ id: string; state: string; at: number; by: string; reason: string | null }], ApprovalRow>(
      `UPDATE approvals SET state = @state, decided_at = @at, decided_by = @by, decision_reason = @reason,
         valid_until = CASE WHEN @state = 'approved' THEN @at + valid_for_sec * 1000 END
       WHERE id = @id AND state = 'pending' AND pending_until > @at RETURNING *`,
    ),
    listAll: db.prepare<[number], ApprovalRow>('SELECT * FROM approvals ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listState: db.prepare<[string, number], ApprovalRow>('SELECT * FROM approvals WHERE state = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    consume: db.prepare(
      `UPDATE approvals SET uses_left = uses_left - 1, state = CASE WHEN uses_left = 1 THEN 'used' ELSE state END
       WHERE id = ? AND state = 'approved' AND uses_left > 0 AND valid_until > ?`,
    ),
    expire: db.prepare<[{ at: number }], ApprovalRow>(
      `UPDATE approvals SET state = 'expired', expired_at = @at
       WHERE (state = 'pending' AND pending_until <= @at) OR (state = 'approved' AND valid_until <= @at) RETURNING *`,
    ),
  };
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new StoreUnavailableError(`approval store: ${(err as Error).message}`);
    }
  };
  const insertUnlessOpen = db.transaction((r: ApprovalRecord): ApprovalRecord => {
    const open = fromRow(q.open.get(r.tokenId, r.fingerprint));
    if (open) return open;
    q.insert.run(toRow(r));
    return r;
  });
  return {
    insertUnlessOpen: (r) => guard(() => insertUnlessOpen.immediate(r)),
    get: (id) => guard(() => fromRow(q.get.get(id))),
    latestFor: (tokenId, fingerprint) => guard(() => fromRow(q.latest.get(tokenId, fingerprint))),
    list: ({ state, limit }) => guard(() => (state === undefined ? q.listAll.all(limit) : q.listState.all(state, limit)).map((row) => fromRow(row)!)),
    // valid_until is counted from the decision, in the row's own valid_for.
    decide: (id, d) => guard(() => fromRow(q.decide.get({ id, state: d.state, at: d.at, by: d.by, reason: d.reason ?? null }))),
    consume: (id, at) => guard(() => q.consume.run(id, at).changes === 1),
    expireDue: (at) => guard(() => q.expire.all({ at }).map((row) => fromRow(row)!)),
    close: () => void (db.open && db.close()),
  };
}

function toRow(r: ApprovalRecord) {
  return {
    id: r.id,
    state: r.state,
    token_id: r.tokenId,
    policy: r.policy,
    fingerprint: r.fingerprint,
    request_id: r.requestId,
    requester: JSON.stringify(r.requester),
    summary: JSON.stringify(r.summary),
    reasons: JSON.stringify(r.reasons),
    justification: r.justification ?? null,
    approvers: JSON.stringify(r.approvers),
    uses_total: r.usesTotal,
    uses_left: r.usesLeft,
    valid_for_sec: r.validForSec,
    created_at: r.createdAt,
    pending_until: r.pendingUntil,
  };
}

function fromRow(row: ApprovalRow | undefined): ApprovalRecord | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    state: row.state,
    tokenId: row.token_id,
    policy: row.policy,
    fingerprint: row.fingerprint,
    requestId: row.request_id,
    requester: JSON.parse(row.requester) as Requester,
    summary: JSON.parse(row.summary) as RequestSummary,
    reasons: JSON.parse(row.reasons) as string[],
    ...(row.justification !== null && { justification: row.justification }),
    approvers: JSON.parse(row.approvers) as string[],
    usesTotal: row.uses_total,
    usesLeft: row.uses_left,
    validForSec: row.valid_for_sec,
    createdAt: row.created_at,
    pendingUntil: row.pending_until,
    ...(row.decided_at !== null && { decidedAt: row.decided_at }),
    ...(row.decided_by !== null && { decidedBy: row.decided_by }),
    ...(row.decision_reason !== null && { decisionReason: row.decision_reason }),
    ...(row.valid_until !== null && { validUntil: row.valid_until }),
    ...(row.expired_at !== null && { expiredAt: row.expired_at }),
  };
}
