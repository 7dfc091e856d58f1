import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { openSqlite } from './sqlite-connection.ts';
import type { Scope } from '../config/schema.ts';
import type { AuditRecord } from '../audit/audit-record.ts';
import { AUDIT_SCHEMA, createSqliteAudit } from './sqlite-audit.ts';
import { createSqliteReconcilerStore, RECONCILER_SCHEMA } from './sqlite-reconciler.ts';
import { StoreUnavailableError, type JtiSpend, type Store, type TokenFilter, type TokenRecord } from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS used_jti (
  iss TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (iss, jti)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  policy TEXT NOT NULL,
  issuer TEXT NOT NULL,
  scopes TEXT NOT NULL,
  identity TEXT NOT NULL,
  repository_id TEXT,
  actor TEXT,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoked_reason TEXT,
  revoked_by TEXT
);
CREATE INDEX IF NOT EXISTS tokens_active ON tokens (expires_at) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS revocation_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
INSERT OR IGNORE INTO revocation_epoch (id, seq) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS broker_instances (id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, heartbeat_at INTEGER NOT NULL);
`;

interface TokenRow {
  id: string;
  token_hash: string;
  policy: string;
  issuer: string;
  scopes: string;
  identity: string;
  issued_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  revoked_by: string | null;
}

/** `openSqliteStore` opens (creating if needed) the embedded store; see `openSqlite` for how the file is opened. */
export function openSqliteStore(path: string, opts: { busyTimeoutMs?: number } = {}): Store {
  const db = openSqlite(path, opts.busyTimeoutMs);
  db.exec(SCHEMA);
  db.exec(AUDIT_SCHEMA);
  db.exec(RECONCILER_SCHEMA);

  const q = {
    consumeJti: db.prepare('INSERT INTO used_jti (iss, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    insertToken: db.prepare(`INSERT INTO tokens (id, token_hash, policy, issuer, scopes, identity, repository_id, actor, issued_at, expires_at)
      VALUES (@id, @token_hash, @policy, @issuer, @scopes, @identity, @repository_id, @actor, @issued_at, @expires_at)`),
    byHash: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE token_hash = ?'),
    byId: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE id = ?'),
    revoke: db.prepare('UPDATE tokens SET revoked_at = ?, revoked_reason = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL'),
    bumpEpoch: db.prepare('UPDATE revocation_epoch SET seq = seq + 1 WHERE id = 1'),
    epoch: db.prepare<[], { seq: number }>('SELECT seq FROM revocation_epoch WHERE id = 1'),
    pruneJtis: db.prepare('DELETE FROM used_jti WHERE expires_at < ?'),
    ping: db.prepare('SELECT 1'),
    heartbeat: db.prepare('INSERT INTO broker_instances (id, pid, host, heartbeat_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at'),
    instances: db.prepare<[], { id: string; pid: number; host: string; heartbeat_at: number }>('SELECT * FROM broker_instances'),
  };

  // Every driver error becomes StoreUnavailableError so callers fail closed in one way.
  const unavailable = (err: unknown) => new StoreUnavailableError(`sqlite store: ${(err as Error).message}`);
  const guard = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(unavailable(err));
    }
  };

  const audit = createSqliteAudit(db, unavailable);
  const reconciler = createSqliteReconcilerStore(db);

  const probe = db.transaction(() => undefined);
  const commitExchange = db.transaction((spend: JtiSpend, t: TokenRecord, record: AuditRecord): 'committed' | 'replayed' => {
    if (q.consumeJti.run(spend.iss, spend.jti, spend.expiresAt).changes === 0) return 'replayed';
    q.insertToken.run({
      id: t.id,
      token_hash: t.tokenHash,
      policy: t.policy,
      issuer: t.issuer,
      scopes: JSON.stringify(t.scopes),
      identity: JSON.stringify(t.identity),
      repository_id: t.identity.repository_id ?? null,
      actor: t.identity.actor ?? null,
      issued_at: t.issuedAt,
      expires_at: t.expiresAt,
    });
    audit.appendChained(record);
    return 'committed';
  });

  const revoke = db.transaction((id: string, reason: string, by: string, at: number): boolean => {
    if (q.revoke.run(at, reason, by, id).changes === 0) return false;
    q.bumpEpoch.run();
    epochThisTurn = undefined;
    return true;
  });

  // Every proxied request checks the epoch; the requests of one turn of the event loop share one
  // read (a revocation by another process lands a turn later, as if it had committed microseconds
  // later). A revocation made here drops the shared read at once.
  let epochThisTurn: number | undefined;
  const revocationEpoch = (): number => {
    if (epochThisTurn === undefined) {
      epochThisTurn = q.epoch.get()!.seq;
      setImmediate(() => (epochThisTurn = undefined));
    }
    return epochThisTurn;
  };

  return {
    commitExchange: (spend, token, record) => guard(() => commitExchange.immediate(spend, token, record)),
    findTokenByHash: (hash) => guard(() => toRecord(q.byHash.get(hash))),
    getToken: (id) => guard(() => toRecord(q.byId.get(id))),
    revokeToken: (id, reason, by, at) => guard(() => revoke(id, reason, by, at)),
    revocationEpoch: () => guard(revocationEpoch),
    listTokens: (filter = {}) => guard(() => listTokens(db, filter)),
    appendAudit: (record) => audit.append(record),
    queryAudit: (filter) => guard(() => audit.query(filter)),
    auditSession: (id) => guard(() => audit.session(id)),
    verifyAudit: (checkpoint) => guard(() => audit.verify(checkpoint)),
    auditHead: () => guard(() => audit.head()),
    heartbeat: (i, now) => guard(() => void q.heartbeat.run(i.id, i.pid, i.host, now)),
    closeInterrupted: async (now, liveWithinMs) => {
      const live = new Set((await guard(() => q.instances.all())).filter((i) => isAlive(i, now - liveWithinMs)).map((i) => i.id));
      const orphans = (await guard(() => audit.orphans())).filter((r) => !live.has(String(r.data?.['instance'])));
      for (const request of orphans) {
        const { type: _type, data: _data, ...same } = request;
        await audit.append({ ...same, type: 'proxy.outcome', at: now, outcome: 'interrupted', reason: 'broker_restarted' });
      }
      return orphans.length;
    },
    pruneJtis: (now) => guard(() => q.pruneJtis.run(now).changes),
    ping: () => guard(() => void q.ping.get()),
    probeWrite: () => guard(() => probe.immediate()),
    acquireLease: (name, holder, now, ttlMs) => guard(() => reconciler.acquireLease(name, holder, now, ttlMs)),
    releaseLease: (name, holder) => guard(() => reconciler.releaseLease(name, holder)),
    lastUsedSince: (since) => guard(() => reconciler.lastUsedSince(since)),
    saveReport: (report) => guard(() => reconciler.saveReport(report)),
    listReports: (limit) => guard(() => reconciler.listReports(limit)),
    getReport: (id) => guard(() => reconciler.getReport(id)),
    close: () => guard(() => void (db.open && db.close())),
  };
}

/** On this host the pid answers for the process; a replica elsewhere is alive while it keeps beating. */
function isAlive(i: { pid: number; host: string; heartbeat_at: number }, beatSince: number): boolean {
  if (i.host !== hostname()) return i.heartbeat_at >= beatSince;
  try {
    process.kill(i.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listTokens(db: Database.Database, f: TokenFilter): TokenRecord[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (f.active) {
    where.push('revoked_at IS NULL AND expires_at > ?');
    args.push(f.now ?? Date.now());
  }
  if (f.open) where.push('revoked_at IS NULL');
  if (f.policy !== undefined) {
    where.push('policy = ?');
    args.push(f.policy);
  }
  if (f.repositoryId !== undefined) {
    where.push('repository_id = ?');
    args.push(f.repositoryId);
  }
  const sql = `SELECT * FROM tokens ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY issued_at DESC LIMIT ?`;
  args.push(f.limit ?? 1000);
  return (db.prepare<unknown[], TokenRow>(sql).all(...args) as TokenRow[]).map((r) => toRecord(r)!);
}

function toRecord(row: TokenRow | undefined): TokenRecord | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    tokenHash: row.token_hash,
    policy: row.policy,
    issuer: row.issuer,
    scopes: JSON.parse(row.scopes) as Scope[],
    identity: JSON.parse(row.identity) as TokenRecord['identity'],
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
    ...(row.revoked_reason !== null && { revokedReason: row.revoked_reason }),
    ...(row.revoked_by !== null && { revokedBy: row.revoked_by }),
  };
}
