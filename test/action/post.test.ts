// The post step with only @actions/core mocked: the real broker's audit API and revocation, and
// the real Octokit (from @actions/github) against a fake GitHub REST API for the PR comment.
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runPost } from '../../action/post.ts';
import { commentMarker } from '../../action/session-report.ts';
import { runner } from './fake-core.ts';
import { startFakeGithub, type FakeGithub } from './fake-github.ts';
import { ALLOWED_MODEL, closedPortUrl, DENIED_MODEL, startStack, type Stack } from './stack.ts';

vi.mock('@actions/core', async () => (await import('./fake-core.ts')).coreModule);

const GITHUB_TOKEN = 'ghs_postTestToken';
let stack: Stack;
let github: FakeGithub;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  stack = await startStack();
  github = await startFakeGithub({ repository: 'octo-org/octo-repo', token: GITHUB_TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'skillgate-post-'));
});
afterEach(() => {
  github.setFailure(undefined);
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});
afterAll(async () => {
  await github.close();
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A token as main would have left it in the job's state, plus calls made with it. */
async function sessionWithCalls(): Promise<{ token: string; sessionId: string; state: Record<string, string> }> {
  const { body } = await stack.broker.exchange(await stack.issuer.sign(stack.issuer.githubClaims()));
  const token = body['access_token'] as string;
  const sdk = new Anthropic({ baseURL: stack.broker.url, apiKey: token, maxRetries: 0 });
  const ask = { model: ALLOWED_MODEL, max_tokens: 128, messages: [{ role: 'user' as const, content: 'hello' }] };
  await sdk.messages.create(ask);
  await sdk.messages.create({ ...ask, model: DENIED_MODEL }).catch(() => undefined);
  await sdk.messages.create({ ...ask, messages: [{ role: 'user', content: 'echo-secret' }] });
  const sessionId = body['token_id'] as string;
  return { token, sessionId, state: { token, 'session-id': sessionId, 'broker-url': stack.broker.url, 'expires-at': body['expires_at'] as string } };
}

function pullRequestEvent(number: number): void {
  const path = join(dir, `event-${number}.json`);
  writeFileSync(path, JSON.stringify({ pull_request: { number, head: { repo: { full_name: 'octo-org/octo-repo' } }, base: { repo: { full_name: 'octo-org/octo-repo' } } } }));
  Object.assign(process.env, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path, GITHUB_REPOSITORY: 'octo-org/octo-repo', GITHUB_API_URL: github.url, GITHUB_WORKFLOW: 'review', GITHUB_JOB: 'claude', GITHUB_RUN_ID: '99' });
}

const whoamiStatus = async (token: string) => (await fetch(`${stack.broker.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('post step', () => {
  it('reads the session before revoking, writes the summary, then the token is dead', async () => {
    const { token, sessionId, state } = await sessionWithCalls();
    runner.reset({ summary: 'true' }, state);
    await runPost();
    expect(runner.failed).toBeUndefined();
    expect(runner.args('warning')).toEqual([]);
    expect(await whoamiStatus(token)).toBe(401);
    expect(runner.summary).toContain(`skillgate session \`${sessionId}\``);
    expect(runner.summary).toContain('| 3 | 2 | 1 | 0 |');
    expect(runner.summary).toContain('model_not_allowed');
    expect(runner.summary).toContain('1 secret(s) replaced');
    expect(runner.log().join('\n')).toContain(`session ${sessionId}: 3 call(s) (2 allowed, 1 denied, 0 failed)`);
    expect(runner.log().join('\n')).not.toContain(token);
  });

  it('with summary false still revokes and writes nothing', async () => {
    const { token, state } = await sessionWithCalls();
    runner.reset({ summary: 'false' }, state);
    await runPost();
    expect(await whoamiStatus(token)).toBe(401);
    expect(runner.summary).toBe('');
  });

  it('does nothing when main issued no token', async () => {
    runner.reset({}, {});
    await runPost();
    expect(runner.log()).toEqual(['info: skillgate: the main step issued no token; nothing to revoke or report.']);
  });

  it('warns, never fails, when the broker cannot be reached', async () => {
    const { token, state } = await sessionWithCalls();
    runner.reset({}, { ...state, 'broker-url': await closedPortUrl() });
    await runPost();
    expect(runner.failed).toBeUndefined();
    const warnings = runner.args('warning').map((a) => String(a[0]));
    expect(warnings.some((w) => w.includes('could not read session'))).toBe(true);
    expect(warnings.some((w) => w.includes('could not revoke token') && w.includes(`stops working on its own at ${state['expires-at']}`))).toBe(true);
    expect(runner.summary).toContain('could not be read from the broker');
    expect(runner.summary).toContain('could not be revoked');
    // Still alive on the real broker: the warning was true.
    expect(await whoamiStatus(token)).toBe(200);
  });

  it('posts one PR comment and updates it on the next run; a user comment with the marker is left alone', async () => {
    pullRequestEvent(7);
    const marker = commentMarker('review', 'claude');
    const impostor = github.addComment(7, `${marker}\nI am not the bot`, { login: 'mallory', type: 'User' });

    const first = await sessionWithCalls();
    runner.reset({ 'pr-comment': 'true', 'github-token': GITHUB_TOKEN }, first.state);
    await runPost();
    expect(runner.args('warning')).toEqual([]);
    const ours = github.comments.filter((c) => c.issue === 7 && c.user.type === 'Bot');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body.startsWith(marker)).toBe(true);
    expect(ours[0]!.body).toContain(first.sessionId);
    expect(ours[0]!.body).toContain('https://github.com/octo-org/octo-repo/actions/runs/99');

    const second = await sessionWithCalls();
    runner.reset({ 'pr-comment': 'true', 'github-token': GITHUB_TOKEN }, second.state);
    await runPost();
    const after = github.comments.filter((c) => c.issue === 7 && c.user.type === 'Bot');
    expect(after).toHaveLength(1);
    expect(after[0]!.body).toContain(second.sessionId);
    expect(after[0]!.body).not.toContain(first.sessionId);
    expect(impostor.body).toBe(`${marker}\nI am not the bot`);
    expect(github.requests.every((r) => r.authorization === `token ${GITHUB_TOKEN}`)).toBe(true);
    expect(runner.log().join('\n')).toContain('updated the report comment on pull request #7');
  });

  it('warns with the permission to add when GitHub refuses the comment', async () => {
    pullRequestEvent(8);
    github.setFailure(403);
    const { token, state } = await sessionWithCalls();
    runner.reset({ 'pr-comment': 'true', 'github-token': GITHUB_TOKEN }, state);
    await runPost();
    expect(runner.failed).toBeUndefined();
    expect(runner.args('warning').map((a) => String(a[0])).join('\n')).toContain('permissions: pull-requests: write');
    expect(await whoamiStatus(token)).toBe(401);
  });

  it('skips the comment outside pull requests', async () => {
    const before = github.requests.length;
    const { state } = await sessionWithCalls();
    runner.reset({ 'pr-comment': 'true', 'github-token': GITHUB_TOKEN }, state);
    await runPost();
    expect(github.requests.length).toBe(before);
    expect(runner.log().join('\n')).toContain('this run is not for a pull request');
  });
});
