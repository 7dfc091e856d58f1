import type Database from 'better-sqlite3';
import type { StoredReport } from './store.ts';

/**
 * What the reconciler keeps in the store: the lease that elects one runner among the brokers
 * sharing it, its reports, and an index that makes "last used" a range read of the audit trail.
 * The index is partial (only `proxy.request` rows), so the proxy's other records do not pay for it.
 */
export const RECONCILER_SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reconcile_reports (
  id TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  summary TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reconcile_reports_started ON reconcile_reports (started_at);
CREATE INDEX IF NOT EXISTS audit_last_use ON audit_log (at, session) WHERE type = 'proxy.request';
`;

interface ReportRow {
  id: string;
  started_at: number;
  finished_at: number;
  summary: string;
  body?: string;
}

/** `createSqliteReconcilerStore` gives the store its lease, last-use and report queries (run after the audit schema). */
export function createSqliteReconcilerStore(db: Database.Database) {
  const q = {
    // Takes a free or lapsed lease, or renews our own; a live lease of another holder is left alone.
    acquire: db.prepare(`INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @until)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE leases.expires_at <= @now OR leases.holder = excluded.holder`),
    release: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
    lastUsed: db.prepare<[number], { session: string; at: number }>(
      // Pinned: without statistics the planner would walk audit_session, i.e. the whole log.
      `SELECT session, MAX(at) AS at FROM audit_log INDEXED BY audit_last_use WHERE type = 'proxy.request' AND at >= ? AND session IS NOT NULL GROUP BY session`,
    ),
    saveReport: db.prepare('INSERT INTO reconcile_reports (id, started_at, finished_at, summary, body) VALUES (@id, @started_at, @finished_at, @summary, @body)'),
    listReports: db.prepare<[number], ReportRow>('SELECT id, started_at, finished_at, summary FROM reconcile_reports ORDER BY started_at DESC, id DESC LIMIT ?'),
    getReport: db.prepare<[string], ReportRow>('SELECT * FROM reconcile_reports WHERE id = ?'),
  };
  return {
    acquireLease: (name: string, holder: string, now: number, ttlMs: number): boolean =>
      q.acquire.run({ name, holder, now, until: now + ttlMs }).changes > 0,
    releaseLease: (name: string, holder: string): void => void q.release.run(name, holder),
    lastUsedSince: (since: number): Map<string, number> => new Map(q.lastUsed.all(since).map((r) => [r.session, r.at])),
    saveReport: (r: StoredReport): void =>
      void q.saveReport.run({ id: r.id, started_at: r.startedAt, finished_at: r.finishedAt, summary: JSON.stringify(r.summary), body: r.body }),
    listReports: (limit: number): Omit<StoredReport, 'body'>[] => q.listReports.all(limit).map((row) => toReport(row)),
    getReport: (id: string): StoredReport | undefined => {
      const row = q.getReport.get(id);
      return row && { ...toReport(row), body: row.body ?? '' };
    },
  };
}

function toReport(row: ReportRow): Omit<StoredReport, 'body'> {
  return { id: row.id, startedAt: row.started_at, finishedAt: row.finished_at, summary: JSON.parse(row.summary) as Record<string, unknown> };
}
