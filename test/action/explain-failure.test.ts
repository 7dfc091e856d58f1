import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerRequestError } from '../../action/broker-client.ts';
import { ActionFailure, checkOidcEnvironment, explainExchangeFailure, isTransient, readIdTokenClaims } from '../../action/explain-failure.ts';
import { readRunContext, runUrl } from '../../action/run-context.ts';

const dir = mkdtempSync(join(tmpdir(), 'skillgate-explain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function eventFile(payload: unknown): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(payload));
  return path;
}

const oidc = { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://runner/token', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x' };
const failure = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    return (err as ActionFailure).message;
  }
  return expect.fail('expected an ActionFailure');
};

describe('readRunContext', () => {
  it('reads the run and a same-repository pull request', () => {
    const ctx = readRunContext({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
      GITHUB_RUN_ID: '5',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
      GITHUB_EVENT_PATH: eventFile({ pull_request: { number: 3, head: { repo: { full_name: 'octo-org/octo-repo' } }, base: { repo: { full_name: 'octo-org/octo-repo' } } } }),
    });
    expect(ctx).toMatchObject({ eventName: 'pull_request', apiUrl: 'https://ghe.example.com/api/v3', pullRequest: { number: 3, fromFork: false } });
    expect(runUrl(ctx)).toBe('https://github.com/octo-org/octo-repo/actions/runs/5');
  });

  it.each([
    ['a fork', { head: { repo: { full_name: 'mallory/octo-repo' } } }, true],
    ['a deleted fork', { head: { repo: null } }, true],
  ])('marks a pull request from %s', (_name, pr, fromFork) => {
    const ctx = readRunContext({ GITHUB_EVENT_PATH: eventFile({ pull_request: { number: 4, base: { repo: { full_name: 'octo-org/octo-repo' } }, ...pr } }) });
    expect(ctx.pullRequest?.fromFork).toBe(fromFork);
  });

  it('finds the pull request of an issue_comment, and none for a push or a missing payload', () => {
    expect(readRunContext({ GITHUB_EVENT_PATH: eventFile({ issue: { number: 12, pull_request: { url: 'x' } } }) }).pullRequest).toEqual({ number: 12, fromFork: false });
    expect(readRunContext({ GITHUB_EVENT_PATH: eventFile({ ref: 'refs/heads/main' }) }).pullRequest).toBeUndefined();
    expect(readRunContext({ GITHUB_EVENT_PATH: join(dir, 'missing.json') }).pullRequest).toBeUndefined();
  });
});

describe('checkOidcEnvironment', () => {
  it('passes when the runner offers the ID-token endpoint', () => {
    expect(() => checkOidcEnvironment(oidc, readRunContext({}))).not.toThrow();
  });

  it('asks for id-token: write', () => {
    const message = failure(() => checkOidcEnvironment({}, readRunContext({})));
    expect(message).toContain('ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set');
    expect(message).toContain('permissions:\n    id-token: write');
  });

  it('explains the fork limitation instead, on a fork pull request', () => {
    const ctx = readRunContext({ GITHUB_EVENT_PATH: eventFile({ pull_request: { number: 4, head: { repo: { full_name: 'mallory/octo-repo' } }, base: { repo: { full_name: 'octo-org/octo-repo' } } } }) });
    const message = failure(() => checkOidcEnvironment({}, ctx));
    expect(message).toContain('pull request #4 from a fork (mallory/octo-repo)');
    expect(message).not.toContain('id-token: write');
  });

  it('explains Dependabot runs', () => {
    expect(failure(() => checkOidcEnvironment({}, readRunContext({ GITHUB_ACTOR: 'dependabot[bot]' })))).toContain('triggered by Dependabot');
  });
});

describe('explainExchangeFailure', () => {
  const args = { brokerUrl: 'https://skillgate.example.com', audience: 'https://skillgate.example.com' };
  const refused = (status: number, error: string, reason: string) =>
    new BrokerRequestError('refused', `broker says ${reason}`, { url: args.brokerUrl, status, error, reason, requestId: 'req_abc' });

  it.each([
    [401, 'invalid_token', 'audience_mismatch', 'Set the input audience'],
    [401, 'invalid_token', 'issuer_not_trusted', 'listed under `issuers:`'],
    [401, 'invalid_token', 'expired', 'clock'],
    [401, 'invalid_token', 'replayed', 'already exchanged'],
    [401, 'invalid_token', 'bad_signature', 'could not verify the ID token'],
    [403, 'policy_denied', 'no_matching_policy', 'skillgate policy explain'],
    [403, 'policy_denied', 'environment_required', 'add `environment: <name>` to the job'],
    [400, 'invalid_scope', 'scope_exceeds_grant', 'can only narrow the grant'],
    [400, 'invalid_scope', 'unknown_scope', 'resource:action'],
    [503, 'idp_unavailable', 'idp_unavailable', '/readyz'],
    [503, 'store_unavailable', 'store_unavailable', 'fail closed'],
  ])('%s %s/%s says how to fix it', (status, error, reason, fix) => {
    const message = explainExchangeFailure(refused(status, error, reason), args);
    const [head, broker, fixLine] = message.split('\n');
    expect(head).toBe(`skillgate: the broker refused the token exchange: ${error} / ${reason} (HTTP ${status}, request req_abc).`);
    expect(broker).toBe(`Broker: broker says ${reason}`);
    expect(fixLine).toMatch(/^Fix: /);
    expect(fixLine).toContain(fix);
  });

  it('names the unreachable URL and what to check', () => {
    const message = explainExchangeFailure(new BrokerRequestError('unreachable', 'x', { url: args.brokerUrl, cause: 'ENOTFOUND' }), args);
    expect(message).toContain('cannot reach the broker at https://skillgate.example.com (ENOTFOUND)');
    expect(message).toContain('GET https://skillgate.example.com/healthz');
  });

  it('retries transport failures and 502–504, not refusals', () => {
    expect(isTransient(new BrokerRequestError('unreachable', 'x', { url: '' }))).toBe(true);
    expect(isTransient(new BrokerRequestError('unexpected', 'x', { url: '', status: 502 }))).toBe(true);
    expect(isTransient(refused(503, 'idp_unavailable', 'idp_unavailable'))).toBe(true);
    expect(isTransient(refused(403, 'policy_denied', 'no_matching_policy'))).toBe(false);
    expect(isTransient(new ActionFailure('x'))).toBe(false);
  });
});

describe('readIdTokenClaims', () => {
  it('shows the claims policies match on, never the signature', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'repo:o/r:ref:refs/heads/main', ref: 'refs/heads/main', jti: 'j', secretish: 'x' })).toString('base64url');
    expect(readIdTokenClaims(`e30.${payload}.c2lnbmF0dXJl`)).toEqual({ sub: 'repo:o/r:ref:refs/heads/main', ref: 'refs/heads/main' });
    expect(readIdTokenClaims('not-a-jwt')).toBeUndefined();
  });
});
