// The main step with only @actions/core mocked: a real broker, the real local OIDC issuer (its
// runner ID-token endpoint included) and the stub upstream behind the proxy.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../action/main.ts';
import { runner } from './fake-core.ts';
import { closedPortUrl, startStack, TEST_AUDIENCE, type Stack } from './stack.ts';

vi.mock('@actions/core', async () => (await import('./fake-core.ts')).coreModule);

let stack: Stack;
const saved = { ...process.env };

beforeAll(async () => {
  stack = await startStack();
});
beforeEach(() => {
  process.env['ACTIONS_ID_TOKEN_REQUEST_URL'] = stack.idTokenRequest.url;
  process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] = stack.idTokenRequest.token;
  process.env['GITHUB_EVENT_NAME'] = 'push';
  delete process.env['GITHUB_EVENT_PATH'];
  delete process.env['ANTHROPIC_CUSTOM_HEADERS'];
});
afterEach(() => {
  stack.issuer.setRunnerClaims({});
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});
afterAll(async () => {
  await stack.close();
});

const baseInputs = () => ({ 'broker-url': stack.broker.url, audience: TEST_AUDIENCE });

async function runMain(inputs: Record<string, string>): Promise<void> {
  runner.reset(inputs);
  await run();
}

describe('main step', () => {
  it('registers the token as a secret before any other call sees it, then saves, outputs and exports it', async () => {
    await runMain({ ...baseInputs(), scope: 'messages:create, models:read', ttl: '10m', justification: 'nightly docs review' });
    expect(runner.failed).toBeUndefined();
    const token = runner.pairs('setOutput')['token']!;
    expect(token).toMatch(/^sgt_/);
    const firstUse = runner.calls.findIndex((c) => c.args.includes(token));
    expect(runner.calls[firstUse]).toEqual({ fn: 'setSecret', args: [token] });
    // The log never carries it (the runner would mask it, but it should not be there to mask).
    expect(runner.log().join('\n')).not.toContain(token);

    const sessionId = runner.pairs('setOutput')['session-id']!;
    expect(runner.pairs('saveState')).toEqual({ token, 'session-id': sessionId, 'broker-url': stack.broker.url, 'expires-at': runner.pairs('setOutput')['expires-at'] });
    expect(runner.pairs('exportVariable')).toEqual({
      ANTHROPIC_BASE_URL: stack.broker.url,
      ANTHROPIC_API_KEY: token,
      ANTHROPIC_AUTH_TOKEN: token,
      ANTHROPIC_CUSTOM_HEADERS: 'X-Skillgate-Justification: nightly docs review',
    });

    // The request narrowed the grant: two scopes, ten minutes.
    const whoami = (await (await fetch(`${stack.broker.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).json()) as { scopes: string[]; expires_at: string; issued_at: string };
    expect(whoami.scopes).toEqual(['messages:create', 'models:read']);
    expect(Date.parse(whoami.expires_at) - Date.parse(whoami.issued_at)).toBe(600_000);
    expect(runner.args('getIDToken')).toEqual([[TEST_AUDIENCE]]);
  });

  it('prints the verified identity in a log group', async () => {
    await runMain(baseInputs());
    const log = runner.log();
    const group = log.findIndex((l) => l.startsWith('startGroup: skillgate: verified identity — policy ci'));
    expect(group).toBeGreaterThanOrEqual(0);
    expect(log.slice(group).join('\n')).toMatch(/repository\s+octo-org\/octo-repo/);
    expect(log.slice(group).join('\n')).toMatch(/scopes\s+messages:create models:read skills:read/);
  });

  it('appends the justification to custom headers the job already sets', async () => {
    process.env['ANTHROPIC_CUSTOM_HEADERS'] = 'X-Team: docs';
    await runMain({ ...baseInputs(), justification: 'why not' });
    expect(runner.pairs('exportVariable')['ANTHROPIC_CUSTOM_HEADERS']).toBe('X-Team: docs\nX-Skillgate-Justification: why not');
  });

  it('with export-env false sets outputs but exports nothing', async () => {
    await runMain({ ...baseInputs(), 'export-env': 'false' });
    expect(runner.failed).toBeUndefined();
    expect(runner.args('exportVariable')).toEqual([]);
    expect(runner.pairs('setOutput')['base-url']).toBe(stack.broker.url);
  });

  it('reports every invalid input at once and asks for nothing', async () => {
    await runMain({ 'broker-url': 'http://skillgate.example.com', ttl: 'forever', 'pr-comment': 'yes' });
    expect(runner.failed).toContain('input broker-url must use https');
    expect(runner.failed).toContain('input ttl is "forever"');
    expect(runner.failed).toContain('input pr-comment is "yes": use true or false');
    expect(runner.args('getIDToken')).toEqual([]);
  });

  it('explains the missing id-token permission', async () => {
    delete process.env['ACTIONS_ID_TOKEN_REQUEST_URL'];
    delete process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
    await runMain(baseInputs());
    expect(runner.failed).toContain('id-token: write');
    expect(runner.args('getIDToken')).toEqual([]);
  });

  it('explains an audience that is not the broker\'s', async () => {
    await runMain({ 'broker-url': stack.broker.url });
    expect(runner.failed).toContain('invalid_token / audience_mismatch (HTTP 401');
    expect(runner.failed).toContain(`requested for audience "${stack.broker.url}"`);
    expect(runner.failed).toContain('Set the input audience');
  });

  it('explains a scope wider than the grant', async () => {
    await runMain({ ...baseInputs(), scope: 'messages:create files:write' });
    expect(runner.failed).toContain('invalid_scope / scope_exceeds_grant (HTTP 400');
    expect(runner.failed).toContain('Fix: the input scope asks for more than the policy grants');
    expect(runner.args('saveState')).toEqual([]);
  });

  it('explains a policy denial and shows the claims it was decided on', async () => {
    stack.issuer.setRunnerClaims({ event_name: 'pull_request_target' });
    await runMain(baseInputs());
    expect(runner.failed).toContain('policy_denied / event_not_allowed (HTTP 403');
    expect(runner.failed).toContain('Broker: policy ci');
    expect(runner.failed).toContain('skillgate policy explain');
    expect(runner.log().join('\n')).toContain('"event_name": "pull_request_target"');
  });

  it('retries an unreachable broker with a fresh ID token each time, then names the URL', async () => {
    const dead = await closedPortUrl();
    await runMain({ 'broker-url': dead, audience: TEST_AUDIENCE });
    expect(runner.failed).toContain(`cannot reach the broker at ${dead} (ECONNREFUSED)`);
    expect(runner.args('getIDToken')).toHaveLength(3);
  });

  it('says when the runner\'s ID-token endpoint gives no token', async () => {
    process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] = 'wrong';
    await runMain(baseInputs());
    expect(runner.failed).toContain('the runner\'s ID-token endpoint gave no token after 3 attempts');
    expect(runner.failed).toContain('401');
  });
});
