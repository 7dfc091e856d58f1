// Budgets across broker processes: three processes of five concurrent clients, each with its own connection to one SQLite
// file, spend one policy budget at once. BEGIN IMMEDIATE must serialise their holds, so none
// overspends and none fails with SQLITE_BUSY instead of a budget answer.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { createBudgetGate } from '../../broker/budgets/create-budget-gate.ts';
import { grantWith, message, reserve, tempDbPath, tokenOf } from './fixtures.ts';

const LIMIT = 300_000;
const MAX_TOKENS = 1000;
const path = tempDbPath();
afterAll(() => rmSync(dirname(path), { recursive: true, force: true }));

interface ChildResult {
  admitted: number;
  charged: number;
  refusedWith: string[];
  firstAt: number;
  lastAt: number;
}

function startChild(tokenId: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/budgets/spend-until-refused.ts', path, tokenId, String(LIMIT), String(MAX_TOKENS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value);
  return { child, ready: next().then((line) => expect(line).toBe('ready')), result: async () => JSON.parse(await next()) as ChildResult };
}

it('three processes of five clients each spending one policy budget at once overspend by at most one max_tokens', async () => {
  createBudgetGate({ storePath: path, now: Date.now }).close(); // create the tables before the race
  const children = ['tok_p1', 'tok_p2', 'tok_p3'].map(startChild);
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.write('go\n');
  const results = await Promise.all(children.map((c) => c.result()));

  // Every client of every process ended on a budget answer, never on a busy store.
  expect(new Set(results.flatMap((r) => r.refusedWith))).toEqual(new Set(['budget_exhausted']));
  const charged = results.reduce((sum, r) => sum + r.charged, 0);
  expect(charged).toBeLessThanOrEqual(LIMIT + MAX_TOKENS);
  // With every hold settled, the shared ledger holds exactly what the processes were charged.
  const gate = createBudgetGate({ storePath: path, now: Date.now });
  const next = await reserve(gate, tokenOf('tok_after', 'ci', Date.now() + 60_000), grantWith({ per_policy: { output_tokens: LIMIT } }), message(1)).then(
    () => 'admitted',
    () => 'refused',
  );
  gate.close();
  expect(next).toBe(charged < LIMIT ? 'admitted' : 'refused');
  // The processes really raced: each was admitted while another was still spending.
  for (const r of results) expect(r.admitted).toBeGreaterThan(0);
  const overlap = Math.min(...results.map((r) => r.lastAt)) - Math.max(...results.map((r) => r.firstAt));
  expect(overlap).toBeGreaterThan(0);
}, 60_000);
