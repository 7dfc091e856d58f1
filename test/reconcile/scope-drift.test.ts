// Scope drift: per policy, what the grant allows against what its tokens used over the window,
// read from the proxy's `proxy.request` records, with a narrowing recommendation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { measureScopeDrift } from '../../broker/reconcile/checks/scope-drift.ts';
import { DAY, seedToken, tempStore, testConfig, recordUse, type TempStore } from './fixtures.ts';

const NOW = Date.now();
let db: TempStore;
beforeEach(() => void (db = tempStore()));
afterEach(() => db.close());

const policies = () => testConfig({}).policies;
const tool = (type: string) => ({ type, name: type.replace(/_\d+$/, '') });

describe('scope drift', () => {
  it('recommends dropping scopes and tool families a policy\u2019s tokens did not use', async () => {
    const token = await seedToken(db.store, NOW);
    await recordUse(db.store, token, NOW - DAY, { body: { model: 'claude-sonnet-5', max_tokens: 16, messages: [], tools: [tool('bash_20250124')] } });
    await recordUse(db.store, token, NOW - 2 * DAY, { operation: 'models:read', body: undefined });
    const [ci] = await measureScopeDrift(db.store, policies(), NOW, 30 * 86_400);
    expect(ci).toMatchObject({
      policy: 'ci',
      requests: 2,
      scopes: { granted: ['messages:create', 'models:read', 'skills:read'], used: ['messages:create', 'models:read'], unused: ['skills:read'] },
      tools: { granted: ['code_execution', 'bash'], used: ['bash'], unused: ['code_execution'] },
    });
    expect(ci!.recommendation).toContain('narrow grant.scopes to [messages:create, models:read]');
    expect(ci!.recommendation).toContain('grant.tools.code_execution: deny');
  });

  it('counts tools inside message batches, and has nothing to say about a policy that fits its use', async () => {
    const token = await seedToken(db.store, NOW);
    const batch = { requests: [{ custom_id: 'a', params: { tools: [tool('code_execution_20250825'), tool('bash_20250124')] } }] };
    await recordUse(db.store, token, NOW - DAY, { operation: 'messages:create', body: batch });
    await recordUse(db.store, token, NOW - DAY, { operation: 'models:read' });
    await recordUse(db.store, token, NOW - DAY, { operation: 'skills:read' });
    const [ci] = await measureScopeDrift(db.store, policies(), NOW, 30 * 86_400);
    expect(ci!.tools.used).toEqual(['bash', 'code_execution']);
    expect(ci!.recommendation).toBeNull();
  });

  it('ignores calls outside the window, and suggests removing a policy nobody used', async () => {
    const token = await seedToken(db.store, NOW);
    await recordUse(db.store, token, NOW - 40 * DAY);
    const drift = await measureScopeDrift(db.store, policies(), NOW, 30 * 86_400);
    expect(drift.map((d) => [d.policy, d.requests])).toEqual([['ci', 0], ['people', 0]]);
    expect(drift[0]!.recommendation).toContain('no proxied requests in 30d');
  });

  it('gives no tool advice when a recorded body was cut short (its tools are unknown)', async () => {
    const token = await seedToken(db.store, NOW);
    await recordUse(db.store, token, NOW - DAY, { truncated: true, body: '{"model":"claude-sonnet-5","tools":[{"type":"code_exec' });
    const [ci] = await measureScopeDrift(db.store, policies(), NOW, 30 * 86_400);
    expect(ci).toMatchObject({ unreadable: 1, tools: { unused: [] } });
    expect(ci!.recommendation).not.toContain('grant.tools');
  });
});
