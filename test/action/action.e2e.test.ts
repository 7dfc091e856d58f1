// The committed bundle end to end: `node dist/main.js` and `node dist/post.js` run as the runner
// runs them (command files, INPUT_*, GITHUB_*, the ID-token endpoint), against a real broker, the
// local OIDC issuer and the stub upstream; later "steps" call Claude with the official SDK through
// what main exported.
import Anthropic, { PermissionDeniedError } from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../broker/audit/audit-record.ts';
import { STUB_ECHO_SECRET } from '../stub-upstream/server.ts';
import { createRunnerJob, workflowCommands, type RunnerJob } from './runner.ts';
import { ALLOWED_MODEL, closedPortUrl, DENIED_MODEL, startStack, TEST_AUDIENCE, type Stack } from './stack.ts';

let stack: Stack;
const jobs: RunnerJob[] = [];
const newJob = (opts: Parameters<typeof createRunnerJob>[0] = {}) => {
  const job = createRunnerJob({ idTokenRequest: stack.idTokenRequest, ...opts });
  jobs.push(job);
  return job;
};
const inputs = () => ({ 'broker-url': stack.broker.url, audience: TEST_AUDIENCE });
const count = (text: string, part: string) => text.split(part).length - 1;

beforeAll(async () => {
  stack = await startStack();
});
afterEach(() => stack.issuer.setRunnerClaims({}));
afterAll(async () => {
  for (const job of jobs) job.close();
  await stack.close();
});

describe('the bundled Action on a runner', () => {
  it('exchanges, masks and exports the token; later steps call Claude through the proxy; post reports and revokes', async () => {
    const job = newJob();
    const main = await job.runMain({ ...inputs(), justification: 'e2e: summarize the release notes' });
    expect(main.stderr).toBe('');
    expect(main.code).toBe(0);

    const outputs = job.outputs();
    const token = outputs['token']!;
    expect(token).toMatch(/^sgt_/);
    expect(outputs).toMatchObject({ 'base-url': stack.broker.url, 'session-id': expect.stringMatching(/^tok_/), 'expires-at': expect.any(String) });

    // Masked before anything else: the ::add-mask:: line is the token's only appearance in the log.
    expect(main.stdout).toContain(`::add-mask::${token}\n`);
    expect(count(main.stdout + main.stderr, token)).toBe(1);
    expect(main.stdout.indexOf(`::add-mask::${token}`)).toBeLessThan(main.stdout.indexOf('::group::skillgate: verified identity'));
    expect(main.stdout).toContain('octo-org/octo-repo');

    const env = job.exported();
    expect(env).toMatchObject({ ANTHROPIC_BASE_URL: stack.broker.url, ANTHROPIC_API_KEY: token, ANTHROPIC_AUTH_TOKEN: token, ANTHROPIC_CUSTOM_HEADERS: 'X-Skillgate-Justification: e2e: summarize the release notes' });
    expect(job.state()).toMatchObject({ token, 'session-id': outputs['session-id'], 'broker-url': stack.broker.url });

    // Later steps: the SDK configured only from the exported environment, as in a workflow step.
    const sdk = new Anthropic({ baseURL: env['ANTHROPIC_BASE_URL'], apiKey: env['ANTHROPIC_API_KEY'], maxRetries: 0 });
    const ask = { model: ALLOWED_MODEL, max_tokens: 256, messages: [{ role: 'user' as const, content: 'hello' }] };
    expect((await sdk.messages.create(ask)).type).toBe('message');
    await expect(sdk.messages.create({ ...ask, model: DENIED_MODEL })).rejects.toBeInstanceOf(PermissionDeniedError);
    const masked = await sdk.messages.create({ ...ask, messages: [{ role: 'user', content: 'please echo-secret' }] });
    expect(JSON.stringify(masked)).not.toContain(STUB_ECHO_SECRET);

    const post = await job.runPost(inputs());
    expect(post.code).toBe(0);
    expect(workflowCommands(post.stdout, 'warning')).toEqual([]);
    expect(post.stdout).toContain(`token ${outputs['session-id']} revoked`);
    expect(post.stdout.replace(`::add-mask::${token}`, '')).not.toContain(token);

    const whoami = await fetch(`${stack.broker.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(whoami.status).toBe(401);
    expect(((await whoami.json()) as { reason: string }).reason).toBe('token_revoked');

    const summary = job.summary();
    expect(summary).toContain(`skillgate session \`${outputs['session-id']}\``);
    expect(summary).toMatch(/\| calls \| allowed \| denied \|.*\n.*\n\| 3 \| 2 \| 1 \| 0 \|/);
    expect(summary).toContain(`**Models:** \`${ALLOWED_MODEL}\` ×2`);
    expect(summary).toContain('| messages:create | model_not_allowed | 403 |');
    expect(summary).toContain('#### Masked');
    expect(summary).toContain('1 secret(s) replaced');
    expect(summary).toContain('revoked when the job ended');
    // The session's last audit link, kept in the job summary outside the broker, verifies against its trail.
    const checkpoint = /\*\*Audit checkpoint:\*\* `(\d+:[0-9a-f]{64})`/.exec(summary)?.[1];
    expect(checkpoint).toBeDefined();
    expect(await stack.broker.store.verifyAudit(parseCheckpoint(checkpoint!))).toMatchObject({ ok: true });
    expect(summary).not.toContain(token);
    expect(summary).not.toContain(STUB_ECHO_SECRET);
  });

  it('fails with the permissions fix when the job has no id-token: write', async () => {
    const job = createRunnerJob();
    jobs.push(job);
    const main = await job.runMain(inputs());
    expect(main.code).toBe(1);
    const [error] = workflowCommands(main.stdout, 'error');
    expect(error).toContain('cannot request a GitHub OIDC token');
    expect(error).toContain('permissions:\n    id-token: write');
    expect(job.state()).toEqual({});
    // Nothing to clean up: post succeeds quietly.
    const post = await job.runPost(inputs());
    expect(post.code).toBe(0);
    expect(post.stdout).toContain('issued no token');
  });

  it('explains that fork pull requests get no OIDC token', async () => {
    const job = createRunnerJob({
      eventName: 'pull_request',
      eventPayload: { pull_request: { number: 7, head: { repo: { full_name: 'mallory/octo-repo' } }, base: { repo: { full_name: 'octo-org/octo-repo' } } } },
    });
    jobs.push(job);
    const main = await job.runMain(inputs());
    expect(main.code).toBe(1);
    const [error] = workflowCommands(main.stdout, 'error');
    expect(error).toContain('pull request #7 from a fork (mallory/octo-repo)');
    expect(error).toContain('GitHub never gives fork pull requests an ID token');
  });

  it('says the broker cannot be reached, and which URL, when it is down', async () => {
    const deadUrl = await closedPortUrl();
    const job = newJob();
    const main = await job.runMain({ ...inputs(), 'broker-url': deadUrl });
    expect(main.code).toBe(1);
    const [error] = workflowCommands(main.stdout, 'error');
    expect(error).toContain(`cannot reach the broker at ${deadUrl} (ECONNREFUSED)`);
    expect(error).toContain('Fix: check the input broker-url');
    expect(main.stdout).toContain('retrying in');
  });

  it('shows the policy denial with its reason, the fix and the claims to explain it with', async () => {
    stack.issuer.setRunnerClaims({ ref: 'refs/heads/feature/x' });
    const job = newJob();
    const main = await job.runMain(inputs());
    expect(main.code).toBe(1);
    const [error] = workflowCommands(main.stdout, 'error');
    expect(error).toMatch(/the broker refused the token exchange: policy_denied \/ ref_not_allowed \(HTTP 403, request req_/);
    expect(error).toContain('Broker: policy ci');
    expect(error).toContain('skillgate policy explain');
    expect(main.stdout).toContain('"ref": "refs/heads/feature/x"');
    expect(job.outputs()).toEqual({});
  });

  it('post warns but does not fail when the broker is gone', async () => {
    const job = newJob();
    expect((await job.runMain(inputs())).code).toBe(0);
    const post = await job.runPost(inputs(), { 'STATE_broker-url': await closedPortUrl() });
    expect(post.code).toBe(0);
    const warnings = workflowCommands(post.stdout, 'warning');
    expect(warnings.some((w) => w.includes('could not revoke token') && w.includes('skillgate tokens revoke'))).toBe(true);
    expect(job.summary()).toContain('could not be read from the broker');
  });
});
