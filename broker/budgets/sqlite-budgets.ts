import { openSqlite } from '../store/sqlite-connection.ts';
import type { BudgetCounts } from '../policy/grant.ts';
import type { Usage } from './budget-gate.ts';
import { COUNTERS, type Counter, type Counts, type Need } from './measure-need.ts';
import type { Budgets } from './resolve-budgets.ts';

// One row per budgeted request. While `open`, its token counts are holds (estimated input,
// max_tokens); settling replaces them with the real usage. A token's spend is the sum of its rows;
// a policy's is the sum of its rows younger than the window, so the window rolls row by row.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_spend (
  id INTEGER PRIMARY KEY,
  policy TEXT NOT NULL,
  token_id TEXT NOT NULL,
  token_expires_at INTEGER NOT NULL,
  at INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  open INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_spend_policy ON budget_spend (policy, at);
CREATE INDEX IF NOT EXISTS budget_spend_token ON budget_spend (token_id);
`;

const SUMS = `COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(input_tokens), 0) AS inputTokens, COALESCE(SUM(output_tokens), 0) AS outputTokens,
  COALESCE(SUM(requests * open), 0) AS heldRequests, COALESCE(SUM(input_tokens * open), 0) AS heldInputTokens, COALESCE(SUM(output_tokens * open), 0) AS heldOutputTokens`;

/** Rows that are out of every policy window and whose token is dead count for nothing; prune at most this often. */
const PRUNE_EVERY_MS = 60_000;

type Sums = Counts & { heldRequests: number; heldInputTokens: number; heldOutputTokens: number };
type SpendRow = Counts & { at: number };

export interface HoldRequest {
  tokenId: string;
  tokenExpiresAt: number;
  policy: string;
  at: number;
  need: Need;
  budgets: Budgets;
}

/** Why a hold was refused: the first counter without room, and how it stands. */
export interface Refusal {
  scope: 'token' | 'policy';
  counter: Counter;
  limit: number;
  /** Spent plus held: over the token's life, or in the policy's window. */
  used: number;
  /** The part of `used` held by requests not settled yet. */
  held: number;
  /** What the request needs in all (a batch: the sum of its items). */
  needed: number;
  /** The request could not start even on an untouched budget (a batch larger than the limit). */
  tooLarge: boolean;
  windowSec: number;
  /** When enough of the window's spend has aged out; undefined when it never will (per-token, or a batch larger than the budget). */
  refillAt?: number;
}

export type HoldOutcome = { holdId: number } | { refusal: Refusal };

export interface SqliteBudgets {
  /** Checks both budgets and records the hold, in one write transaction. */
  hold(request: HoldRequest): HoldOutcome;
  /** Replaces a hold's token counts with `usage`, or keeps them as spent when undefined. Only the first settle counts. */
  settle(holdId: number, usage: Usage | undefined): void;
  close(): void;
}

/**
 * `openSqliteBudgets` opens its own connection to the broker's SQLite file. Every hold runs in a
 * `BEGIN IMMEDIATE` transaction: the write lock is taken before the sums are read, so no other
 * connection — in this process or another broker sharing the file — can hold in between.
 */
export function openSqliteBudgets(path: string, opts: { busyTimeoutMs?: number } = {}): SqliteBudgets {
  const db = openSqlite(path, opts.busyTimeoutMs);
  db.exec(SCHEMA);

  const q = {
    tokenSums: db.prepare<[string], Sums>(`SELECT ${SUMS} FROM budget_spend WHERE token_id = ?`),
    policySums: db.prepare<[string, number], Sums>(`SELECT ${SUMS} FROM budget_spend WHERE policy = ? AND at > ?`),
    policyRows: db.prepare<[string, number], SpendRow>(
      'SELECT at, requests, input_tokens AS inputTokens, output_tokens AS outputTokens FROM budget_spend WHERE policy = ? AND at > ? ORDER BY at, id',
    ),
    insert: db.prepare(`INSERT INTO budget_spend (policy, token_id, token_expires_at, at, requests, input_tokens, output_tokens, open)
      VALUES (@policy, @tokenId, @tokenExpiresAt, @at, @requests, @inputTokens, @outputTokens, 1)`),
    settleUsage: db.prepare('UPDATE budget_spend SET input_tokens = ?, output_tokens = ?, open = 0 WHERE id = ? AND open = 1'),
    settleKeep: db.prepare('UPDATE budget_spend SET open = 0 WHERE id = ? AND open = 1'),
    prune: db.prepare('DELETE FROM budget_spend WHERE policy = ? AND at <= ? AND token_expires_at <= ?'),
  };
  const prunedAt = new Map<string, number>();

  const hold = db.transaction((r: HoldRequest): HoldOutcome => {
    const { budgets, need } = r;
    const windowStart = r.at - budgets.windowSec * 1000;
    if (r.at - (prunedAt.get(r.policy) ?? -Infinity) >= PRUNE_EVERY_MS) {
      q.prune.run(r.policy, windowStart, r.at);
      prunedAt.set(r.policy, r.at);
    }
    const tokenFull = budgets.perToken && fullCounter(budgets.perToken, q.tokenSums.get(r.tokenId)!, need);
    if (tokenFull) return { refusal: { scope: 'token', ...tokenFull, windowSec: budgets.windowSec } };
    const policyFull = budgets.perPolicy && fullCounter(budgets.perPolicy, q.policySums.get(r.policy, windowStart)!, need);
    if (policyFull) {
      const refillAt = refillTime(q.policyRows.all(r.policy, windowStart), policyFull, need, budgets.windowSec * 1000);
      return { refusal: { scope: 'policy', ...policyFull, windowSec: budgets.windowSec, ...(refillAt !== undefined && { refillAt }) } };
    }
    const id = q.insert.run({ policy: r.policy, tokenId: r.tokenId, tokenExpiresAt: r.tokenExpiresAt, at: r.at, ...need.total }).lastInsertRowid;
    return { holdId: Number(id) };
  });

  return {
    hold: (request) => hold.immediate(request),
    settle: (holdId, usage) => {
      if (usage !== undefined && isCount(usage.inputTokens) && isCount(usage.outputTokens)) q.settleUsage.run(usage.inputTokens, usage.outputTokens, holdId);
      else q.settleKeep.run(holdId);
    },
    close: () => db.close(),
  };
}

type Full = Pick<Refusal, 'counter' | 'limit' | 'used' | 'held' | 'needed' | 'tooLarge'>;

/**
 * The first limited counter the request needs and that has no room: a request (or a batch's items
 * sent one by one, the largest last) starts only while `used < limit`, so a counter is overshot
 * by at most one item's hold.
 */
function fullCounter(limits: BudgetCounts, sums: Sums, need: Need): Full | undefined {
  for (const c of COUNTERS) {
    const limit = limits[c];
    if (limit === undefined || need.total[c] === 0) continue;
    if (sums[c] + ahead(need, c) >= limit) {
      return { counter: c, limit, used: sums[c], held: sums[HELD[c]], needed: need.total[c], tooLarge: ahead(need, c) >= limit };
    }
  }
  return undefined;
}

/** What must fit before the request's last (largest) item may start. */
const ahead = (need: Need, c: Counter) => need.total[c] - need.largest[c];

const HELD = { requests: 'heldRequests', inputTokens: 'heldInputTokens', outputTokens: 'heldOutputTokens' } as const;

/** When the oldest rows of the window have aged out far enough for the request to start. */
function refillTime(rows: SpendRow[], full: Full, need: Need, windowMs: number): number | undefined {
  if (full.tooLarge) return undefined;
  const before = ahead(need, full.counter);
  let used = full.used;
  for (const row of rows) {
    used -= row[full.counter];
    if (used + before < full.limit) return row.at + windowMs;
  }
  return undefined;
}

/** Usage that is not a count (a broken upstream reply) is treated as unknown: the hold stays spent. */
const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;
