// A child process for the cross-process budget test: opens its own gate on the shared SQLite file,
// prints "ready", waits for a line on stdin, then spends until refused and prints what it got.
// Usage: node --import tsx spend-until-refused.ts DB_PATH TOKEN_ID OUTPUT_LIMIT MAX_TOKENS
import { once } from 'node:events';
import { createBudgetGate } from '../../broker/budgets/create-budget-gate.ts';
import { grantWith, message, reserve, tokenOf } from './fixtures.ts';

const [path, tokenId, limit, maxTokens] = process.argv.slice(2) as [string, string, string, string];
const gate = createBudgetGate({ storePath: path, now: Date.now });
const grant = grantWith({ per_policy: { output_tokens: Number(limit) } });
const token = tokenOf(tokenId, 'ci', Date.now() + 3_600_000);

process.stdout.write('ready\n');
await once(process.stdin, 'data');

// Several clients per process, as a broker serves many requests at once.
const CLIENTS = 5;
const result = { admitted: 0, charged: 0, refusedWith: [] as string[], firstAt: 0, lastAt: 0 };
async function client(): Promise<void> {
  for (;;) {
    let reservation;
    try {
      reservation = await reserve(gate, token, grant, message(Number(maxTokens)));
    } catch (err) {
      result.refusedWith.push((err as { reason?: string }).reason ?? String(err));
      return;
    }
    result.admitted++;
    result.firstAt ||= Date.now();
    result.lastAt = Date.now();
    const used = Math.floor(Math.random() * (Number(maxTokens) + 1));
    result.charged += used;
    // Hold for a moment, so holds overlap within and across processes.
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    await reservation.settle({ inputTokens: 1, outputTokens: used });
  }
}
await Promise.all(Array.from({ length: CLIENTS }, client));
gate.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
