import { hash as digest } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AuditFilter, AuditLink, AuditRecord, ChainCheck, StoredAuditRecord } from '../audit/audit-record.ts';

export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  session TEXT,
  request_id TEXT,
  repository TEXT,
  repository_id TEXT,
  run_id TEXT,
  pr TEXT,
  actor TEXT,
  operation TEXT,
  outcome TEXT,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_session ON audit_log (session);
-- Only an outcome is ever looked up by request id (finding requests without one), so only outcomes
-- are indexed: every index is written on every append, on the proxy's hot path.
DROP INDEX IF EXISTS audit_request;
CREATE INDEX IF NOT EXISTS audit_outcome_request ON audit_log (request_id) WHERE type = 'proxy.outcome';
CREATE INDEX IF NOT EXISTS audit_repository ON audit_log (repository_id, seq);
`;

export const GENESIS = '0'.repeat(64);

/** Columns copied out of the body for filtering; verify checks they still agree with the body. */
const INDEXED = [
  ['type', 'type'],
  ['at', 'at'],
  ['session', 'session'],
  ['request_id', 'requestId'],
  ['repository', 'repository'],
  ['repository_id', 'repositoryId'],
  ['run_id', 'runId'],
  ['pr', 'pr'],
  ['actor', 'actor'],
  ['operation', 'operation'],
  ['outcome', 'outcome'],
] as const;

interface AuditRow {
  seq: number;
  body: string;
  prev_hash: string;
  hash: string;
  [column: string]: unknown;
}

/** `chainHash` ties a record to its predecessor: SHA-256 over its sequence number, the previous hash and its exact stored text. */
export function chainHash(seq: number, prevHash: string, body: string): string {
  return digest('sha256', `${seq}\n${prevHash}\n${body}`, 'hex');
}


/**
 * `createSqliteAudit` gives the store its hash-chained, append-only audit log. Appends are
 * group-committed: every record appended in one turn of the event loop is written in one
 * IMMEDIATE transaction (serialised across processes sharing the file), and each append
 * resolves only once its transaction has committed — write-ahead callers await that.
 */
export function createSqliteAudit(db: Database.Database, fail: (err: unknown) => Error) {
  const q = {
    last: db.prepare<[], AuditLink>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
    insert: db.prepare(`INSERT INTO audit_log (seq, ${INDEXED.map(([column]) => column).join(', ')}, body, prev_hash, hash)
      VALUES (${Array.from({ length: INDEXED.length + 4 }, () => '?').join(', ')})`),
    session: db.prepare<[string], AuditRow>('SELECT * FROM audit_log WHERE session = ? ORDER BY seq'),
    all: db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq'),
    orphans: db.prepare<[], { body: string }>(`SELECT r.body FROM audit_log r WHERE r.type = 'proxy.request'
      AND NOT EXISTS (SELECT 1 FROM audit_log o WHERE o.request_id = r.request_id AND o.type = 'proxy.outcome')`),
  };

  /** The chain's last link, read inside the caller's write transaction (other processes may append too). */
  const head = (): AuditLink => q.last.get() ?? { seq: 0, hash: GENESIS };

  function link(record: AuditRecord, prev: AuditLink): AuditLink {
    const seq = prev.seq + 1;
    const body = JSON.stringify(record);
    const hash = chainHash(seq, prev.hash, body);
    q.insert.run(seq, ...INDEXED.map(([, field]) => record[field] ?? null), body, prev.hash, hash);
    return { seq, hash };
  }

  /** Appends inside the caller's transaction. */
  const appendChained = (record: AuditRecord): AuditLink => link(record, head());

  // One read of the head per batch: within the IMMEDIATE transaction nobody else can append.
  const writeBatch = db.transaction((records: AuditRecord[]) => {
    let prev = head();
    return records.map((record) => (prev = link(record, prev)));
  });
  let queue: { record: AuditRecord; resolve: (r: AuditLink) => void; reject: (e: Error) => void }[] = [];

  const flush = () => {
    const batch = queue;
    queue = [];
    try {
      const stored = writeBatch.immediate(batch.map((b) => b.record));
      batch.forEach((b, i) => b.resolve(stored[i]!));
    } catch (err) {
      const error = fail(err);
      for (const b of batch) b.reject(error);
    }
  };

  return {
    appendChained,
    append(record: AuditRecord): Promise<AuditLink> {
      return new Promise((resolve, reject) => {
        if (queue.push({ record, resolve, reject }) === 1) setImmediate(flush);
      });
    },
    query(f: AuditFilter): { records: StoredAuditRecord[]; nextCursor: number | undefined } {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const eq = (column: string, value: string | undefined) => {
        if (value !== undefined) {
          where.push(`${column} = ?`);
          args.push(value);
        }
      };
      eq('type', f.type);
      eq('session', f.session);
      eq('repository', f.repository);
      eq('repository_id', f.repositoryId);
      eq('run_id', f.runId);
      eq('pr', f.pr);
      eq('actor', f.actor);
      eq('operation', f.operation);
      eq('outcome', f.outcome);
      const bound = (sql: string, value: number | undefined) => {
        if (value !== undefined) {
          where.push(sql);
          args.push(value);
        }
      };
      bound('at >= ?', f.since);
      bound('at < ?', f.until);
      bound('seq > ?', f.after);
      const limit = Math.min(f.limit ?? 100, 1000);
      const rows = db.prepare<unknown[], AuditRow>(`SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`).all(...args, limit + 1);
      const records = rows.slice(0, limit).map(toStored);
      return { records, nextCursor: rows.length > limit ? records.at(-1)!.seq : undefined };
    },
    session: (id: string) => q.session.all(id).map(toStored),
    /** Walks the whole chain; with a checkpoint, also proves the chain still reaches it unchanged. */
    verify(checkpoint?: AuditLink): ChainCheck {
      let prev = GENESIS;
      let expected = 1;
      for (const row of q.all.iterate()) {
        const problem = checkRow(row, expected, prev) ?? (row.seq === checkpoint?.seq && row.hash !== checkpoint.hash ? 'record does not match the checkpoint: the chain was rewritten from here on' : undefined);
        // A gap is broken at the missing record itself; anything else at the row that fails.
        if (problem) return { ok: false, records: expected - 1, brokenAt: row.seq !== expected ? expected : row.seq, problem };
        prev = row.hash;
        expected++;
      }
      if (checkpoint && checkpoint.seq >= expected) {
        return { ok: false, records: expected - 1, brokenAt: expected, problem: `the trail ends at record ${expected - 1}, but a checkpoint saw record ${checkpoint.seq}: records were cut off its end` };
      }
      return { ok: true, records: expected - 1, head: prev };
    },
    head: (): AuditLink | undefined => q.last.get(),
    /** Requests whose outcome was never written (the process died mid-call). */
    orphans: (): AuditRecord[] => q.orphans.all().map((r) => JSON.parse(r.body) as AuditRecord),
  };
}

function checkRow(row: AuditRow, expectedSeq: number, prevHash: string): string | undefined {
  if (row.seq !== expectedSeq) return `record ${expectedSeq} is missing (next stored is ${row.seq})`;
  if (row.prev_hash !== prevHash) return 'prev_hash does not match the hash of the record before';
  if (chainHash(row.seq, row.prev_hash, row.body) !== row.hash) return 'hash does not match the record (its content was changed)';
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(row.body) as Record<string, unknown>;
  } catch {
    return 'body is not JSON';
  }
  for (const [column, field] of INDEXED) {
    if ((row[column] ?? null) !== (body[field] ?? null)) return `column ${column} disagrees with the hashed body`;
  }
  return undefined;
}

function toStored(row: AuditRow): StoredAuditRecord {
  return { ...(JSON.parse(row.body) as AuditRecord), seq: row.seq, prevHash: row.prev_hash, hash: row.hash };
}
