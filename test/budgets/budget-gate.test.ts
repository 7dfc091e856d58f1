// Budgets against the real SQLite gate with an injected clock: exhaustion, the rolling window,
// settling, batches, and the concurrency bound (never more than one in-flight max_tokens over).
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBudgetGate } from '../../broker/budgets/create-budget-gate.ts';
import { batch, grantWith, message, refusalOf, reserve, T0, tempDbPath, tokenOf, type Gate } from './fixtures.ts';

let path: string;
let clock: number;
let gate: Gate;
const gates: Gate[] = [];

function openGate(): Gate {
  const g = createBudgetGate({ storePath: path, now: () => clock });
  gates.push(g);
  return g;
}

beforeEach(() => {
  path = tempDbPath();
  clock = T0;
  gate = openGate();
});
afterEach(() => {
  for (const g of gates.splice(0)) g.close();
  rmSync(dirname(path), { recursive: true, force: true });
});

const minutes = (n: number) => n * 60_000;

describe('exhaustion', () => {
  it('refuses the request after the last one a per-token budget allows, naming the token and that it never refills', async () => {
    const grant = grantWith({ per_token: { requests: 3 } });
    const token = tokenOf('tok_a');
    for (let i = 0; i < 3; i++) await reserve(gate, token, grant, message(100));
    const err = await refusalOf(reserve(gate, token, grant, message(100)));
    expect({ status: err.status, type: err.type, reason: err.reason }).toEqual({ status: 429, type: 'rate_limit_error', reason: 'budget_exhausted' });
    expect(err.message).toMatch(/token tok_a has used 3 of its 3 requests/);
    expect(err.message).toMatch(/never refills — exchange a new token/);
    expect(err.message).toContain('grant.budget.per_token.requests');
    // A per-token budget is the token's own: a fresh token of the same policy starts at zero.
    await expect(reserve(gate, tokenOf('tok_b'), grant, message(100))).resolves.toBeDefined();
  });

  it('shares a per-policy budget among the tokens of the policy, and not with another policy', async () => {
    const grant = grantWith({ per_policy: { requests: 3 } });
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    await reserve(gate, tokenOf('tok_b'), grant, message(100));
    const err = await refusalOf(reserve(gate, tokenOf('tok_c'), grant, message(100)));
    expect(err.message).toMatch(/policy ci has used 3 of its 3 requests in the last 1h \(per-policy budget/);
    expect(err.message).toContain(`It refills at ${new Date(T0 + minutes(60)).toISOString()}`);
    await expect(reserve(gate, tokenOf('tok_d', 'other-policy'), grant, message(100))).resolves.toBeDefined();
  });

  it('applies the flat counters both per token and per policy', async () => {
    const grant = grantWith({ requests: 2, window: '1d' });
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    expect((await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(100)))).message).toMatch(/^budget exhausted: token tok_a/);
    expect((await refusalOf(reserve(gate, tokenOf('tok_b'), grant, message(100)))).message).toMatch(/^budget exhausted: policy ci .* in the last 1d/);
  });

  it('lets per_token and per_policy override the flat counters one by one', async () => {
    const grant = grantWith({ requests: 2, output_tokens: 1000, per_policy: { requests: 10 } });
    await reserve(gate, tokenOf('tok_a'), grant, message(10));
    await reserve(gate, tokenOf('tok_a'), grant, message(10));
    expect((await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(10)))).message).toMatch(/token tok_a has used 2 of its 2 requests/);
    // The policy keeps the flat output_tokens while its requests limit is raised to 10.
    await reserve(gate, tokenOf('tok_b'), grant, message(990));
    expect((await refusalOf(reserve(gate, tokenOf('tok_c'), grant, message(10)))).message).toMatch(/policy ci has used 1010 of its 1000 output_tokens/);
  });

  it('only budgets model calls: listing models goes on after the budget is spent', async () => {
    const grant = grantWith({ requests: 1 });
    const token = tokenOf('tok_a');
    await reserve(gate, token, grant, message(100));
    await refusalOf(reserve(gate, token, grant, message(100)));
    await expect(reserve(gate, token, grant, undefined, 'GET /v1/models')).resolves.toBeDefined();
  });

  it('costs nothing for a policy without a budget', async () => {
    const token = tokenOf('tok_a');
    for (let i = 0; i < 20; i++) await reserve(gate, token, grantWith(undefined), message(100_000));
    // Spend made while no budget applied is not recorded, so adding one later starts from zero.
    await expect(reserve(gate, token, grantWith({ requests: 1 }), message(100))).resolves.toBeDefined();
  });
});

describe('the rolling policy window', () => {
  it('refills request by request as the oldest spend leaves the window', async () => {
    const grant = grantWith({ per_policy: { requests: 2 }, window: '10m' });
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    clock = T0 + minutes(1);
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    clock = T0 + minutes(2);
    const first = await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(100)));
    expect(first.message).toContain(`It refills at ${new Date(T0 + minutes(10)).toISOString()}`);

    clock = T0 + minutes(10) - 1;
    await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(100)));
    clock = T0 + minutes(10);
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    const second = await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(100)));
    expect(second.message).toContain(`It refills at ${new Date(T0 + minutes(11)).toISOString()}`);
  });

  it('defaults the window to one hour', async () => {
    const grant = grantWith({ per_policy: { requests: 1 } });
    await reserve(gate, tokenOf('tok_a'), grant, message(100));
    clock = T0 + minutes(59);
    await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(100)));
    clock = T0 + minutes(60);
    await expect(reserve(gate, tokenOf('tok_a'), grant, message(100))).resolves.toBeDefined();
  });

  it('names the time when enough has left the window for the tokens this request needs', async () => {
    const grant = grantWith({ per_policy: { output_tokens: 1000 }, window: '10m' });
    for (const [at, used] of [[0, 400], [1, 300], [2, 300]] as const) {
      clock = T0 + minutes(at);
      const r = await reserve(gate, tokenOf('tok_a'), grant, message(1000));
      await r.settle({ inputTokens: 5, outputTokens: used });
    }
    clock = T0 + minutes(3);
    // 1000 used: room again once the first 400 age out.
    const err = await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(10)));
    expect(err.message).toMatch(/has used 1000 of its 1000 output_tokens in the last 10m/);
    expect(err.message).toContain(`It refills at ${new Date(T0 + minutes(10)).toISOString()}`);
  });

  it('keeps counting a token whose spend has left the window', async () => {
    const grant = grantWith({ requests: 2, window: '1m' });
    const token = tokenOf('tok_a');
    await reserve(gate, token, grant, message(10));
    clock = T0 + minutes(2);
    await reserve(gate, token, grant, message(10));
    clock = T0 + minutes(4); // the policy window has long rolled on, and the pruner has run
    expect((await refusalOf(reserve(gate, token, grant, message(10)))).message).toMatch(/token tok_a has used 2 of its 2 requests/);
  });
});

describe('holds and settling', () => {
  it('holds max_tokens while a request runs and releases what it did not use', async () => {
    const grant = grantWith({ output_tokens: 1000 });
    const token = tokenOf('tok_a');
    const first = await reserve(gate, token, grant, message(600));
    await reserve(gate, token, grant, message(600)); // 600 < 1000: still room, so it starts
    const err = await refusalOf(reserve(gate, token, grant, message(600)));
    expect(err.message).toMatch(/has used 1200 of its 1000 output_tokens .*1200 of it held by requests still running/);
    await first.settle({ inputTokens: 20, outputTokens: 10 });
    await expect(reserve(gate, token, grant, message(600))).resolves.toBeDefined();
  });

  it('keeps the hold as spent when the usage is unknown, and only the first settle counts', async () => {
    const grant = grantWith({ output_tokens: 1000 });
    const token = tokenOf('tok_a');
    const first = await reserve(gate, token, grant, message(1000));
    await first.settle(undefined);
    await first.settle({ inputTokens: 0, outputTokens: 0 });
    const err = await refusalOf(reserve(gate, token, grant, message(10)));
    expect(err.message).toMatch(/has used 1000 of its 1000 output_tokens \(per-token budget, for the token's whole life\)/);
  });

  it('treats usage that is not a count as unknown', async () => {
    const grant = grantWith({ output_tokens: 1000 });
    const token = tokenOf('tok_a');
    await (await reserve(gate, token, grant, message(1000))).settle({ inputTokens: 5, outputTokens: Number.NaN });
    await refusalOf(reserve(gate, token, grant, message(10)));
  });

  it('charges the real usage, even beyond the hold', async () => {
    const grant = grantWith({ input_tokens: 1000 });
    const token = tokenOf('tok_a');
    // Input is estimated from the body; upstream's count is what is charged.
    await (await reserve(gate, token, grant, message(10))).settle({ inputTokens: 1500, outputTokens: 3 });
    const err = await refusalOf(reserve(gate, token, grant, message(10)));
    expect(err.message).toMatch(/token tok_a has used 1500 of its 1000 input_tokens/);
  });

  it('holds an input estimate that grows with the body', async () => {
    const grant = grantWith({ input_tokens: 1000 });
    const token = tokenOf('tok_a');
    await reserve(gate, token, grant, message(10, { messages: [{ role: 'user', content: 'x'.repeat(4000) }] }));
    const err = await refusalOf(reserve(gate, token, grant, message(10)));
    expect(err.message).toMatch(/has used 10\d\d of its 1000 input_tokens/);
  });

  it('holds the largest max_tokens among a request and its fallbacks', async () => {
    const grant = grantWith({ output_tokens: 900 });
    const token = tokenOf('tok_a');
    await reserve(gate, token, grant, message(100, { fallbacks: [{ model: 'claude-sonnet-5', max_tokens: 900 }] }));
    expect((await refusalOf(reserve(gate, token, grant, message(100)))).message).toMatch(/has used 900 of its 900 output_tokens/);
  });

  it('counts count_tokens as a request that holds no tokens', async () => {
    const grant = grantWith({ requests: 3, output_tokens: 100 });
    const token = tokenOf('tok_a');
    await reserve(gate, token, grant, message(100));
    const count = { model: 'claude-sonnet-5', messages: [{ role: 'user', content: 'hello' }] };
    // The output budget is spent, but counting tokens needs none of it.
    await reserve(gate, token, grant, count, 'POST /v1/messages/count_tokens');
    await reserve(gate, token, grant, count, 'POST /v1/messages/count_tokens');
    expect((await refusalOf(reserve(gate, token, grant, count, 'POST /v1/messages/count_tokens'))).message).toMatch(/used 3 of its 3 requests/);
  });
});

describe('batches', () => {
  it('holds per item: a batch fits only when all its requests do', async () => {
    const grant = grantWith({ requests: 5 });
    const token = tokenOf('tok_a');
    await reserve(gate, token, grant, batch(message(10), message(10), message(10)), 'POST /v1/messages/batches');
    const err = await refusalOf(reserve(gate, token, grant, batch(message(10), message(10), message(10)), 'POST /v1/messages/batches'));
    expect(err.message).toMatch(/token tok_a has used 3 of its 5 requests/);
    await reserve(gate, token, grant, batch(message(10), message(10)), 'POST /v1/messages/batches');
  });

  it('says to split a batch larger than the whole budget', async () => {
    const grant = grantWith({ per_policy: { requests: 2 } });
    const err = await refusalOf(reserve(gate, tokenOf('tok_a'), grant, batch(message(10), message(10), message(10)), 'POST /v1/messages/batches'));
    expect(err.message).toMatch(/This batch needs 3 requests, more than the whole budget: split it/);
  });

  it('overshoots output by at most the largest item, as if the items were sent one by one', async () => {
    const grant = grantWith({ per_token: { output_tokens: 1000 } });
    // 300 + 300 fit under 1000 before the 900 item starts: admitted, 1500 held.
    await reserve(gate, tokenOf('tok_a'), grant, batch(message(300), message(900), message(300)), 'POST /v1/messages/batches');
    // 600 + 500 do not fit before the last 500 starts.
    await refusalOf(reserve(gate, tokenOf('tok_b'), grant, batch(message(600), message(500), message(500)), 'POST /v1/messages/batches'));
    await reserve(gate, tokenOf('tok_c'), grant, batch(message(600), message(300)), 'POST /v1/messages/batches');
  });
});

describe('concurrency', () => {
  const MAX_TOKENS = 1000;
  const LIMIT = 10_000;

  /** Clients that each send until refused, settling after a random delay with a random real usage. */
  async function spendConcurrently(gates: Gate[], clients: number, grant: ReturnType<typeof grantWith>) {
    let charged = 0;
    let admitted = 0;
    const client = async (i: number) => {
      const g = gates[i % gates.length]!;
      for (;;) {
        let reservation;
        try {
          reservation = await reserve(g, tokenOf(`tok_${i % 3}`), grant, message(MAX_TOKENS));
        } catch (err) {
          expect((err as { reason?: string }).reason).toBe('budget_exhausted');
          return;
        }
        admitted++;
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        const used = Math.floor(Math.random() * (MAX_TOKENS + 1));
        charged += used;
        await reservation.settle({ inputTokens: 1, outputTokens: used });
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
    return { charged, admitted };
  }

  /** Once every hold is settled the ledger must agree with what the clients were charged. */
  async function expectSettledTo(g: Gate, charged: number, grant: ReturnType<typeof grantWith>) {
    const next = await reserve(g, tokenOf('tok_after'), grant, message(1)).then(
      () => 'admitted',
      () => 'refused',
    );
    expect(next).toBe(charged < LIMIT ? 'admitted' : 'refused');
  }

  it('50 parallel clients never spend more than the limit plus one max_tokens', async () => {
    const grant = grantWith({ per_policy: { output_tokens: LIMIT } });
    const { charged, admitted } = await spendConcurrently([gate], 50, grant);
    expect(charged).toBeLessThanOrEqual(LIMIT + MAX_TOKENS);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT / MAX_TOKENS); // the holds alone fill the budget ten times over
    await expectSettledTo(gate, charged, grant);
  });

  it('50 parallel requests against a request budget admit exactly the limit', async () => {
    const grant = grantWith({ per_policy: { requests: 20 } });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => reserve(gate, tokenOf(`tok_${i}`), grant, message(MAX_TOKENS))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
  });

  it('two gates on one file share every budget, as two broker processes do', async () => {
    const other = openGate();
    const grant = grantWith({ requests: 2 });
    await reserve(gate, tokenOf('tok_a'), grant, message(10));
    await reserve(other, tokenOf('tok_a'), grant, message(10));
    expect((await refusalOf(reserve(gate, tokenOf('tok_a'), grant, message(10)))).message).toMatch(/token tok_a/);
    expect((await refusalOf(reserve(other, tokenOf('tok_b'), grant, message(10)))).message).toMatch(/policy ci/);

    const shared = grantWith({ per_policy: { output_tokens: LIMIT } });
    const { charged } = await spendConcurrently([gate, other], 50, shared);
    expect(charged).toBeLessThanOrEqual(LIMIT + MAX_TOKENS);
    await expectSettledTo(other, charged, shared);
  });
});
