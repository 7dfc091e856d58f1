// Trust-policy matching, table-driven, including the GitHub specifics of security.md §B.5.
// Policies are compiled from YAML exactly as the broker loads them; no HTTP needed here.
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../broker/config/load-config.ts';
import { BrokerError } from '../broker/errors.ts';
import { matchPolicy } from '../broker/policy/match-policy.ts';

const ISS = 'http://127.0.0.1:9';

function load(policies: unknown[], issuers: unknown[] = []) {
  const yaml = stringify({ audience: 'https://skillgate.test', store: 'sqlite::memory:', issuers: [{ name: 'actions', issuer: ISS }, ...issuers], policies });
  return parseConfig(yaml, { source: 'test.yaml', baseDir: '/tmp' });
}

const grant = { scopes: ['messages:create'], ttl: '10m' };

/** GitHub's claims for octo-org@65/octo-repo@74 on main (push), immutable sub. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: ISS,
    sub: 'repo:octo-org@65/octo-repo@74:ref:refs/heads/main',
    repository: 'octo-org/octo-repo',
    repository_id: '74',
    repository_owner: 'octo-org',
    repository_owner_id: '65',
    repository_visibility: 'private',
    ref: 'refs/heads/main',
    ref_type: 'branch',
    event_name: 'push',
    actor: 'octocat',
    workflow_ref: 'octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main',
    job_workflow_ref: 'octo-org/platform/.github/workflows/claude.yml@refs/heads/main',
    runner_environment: 'github-hosted',
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

const bound = { repository_owner_id: '65', repository_id: '74' };

/** Matches and returns the policy name, or the denial reason prefixed with `denied:`. */
function decide(policies: unknown[], c: Record<string, unknown>): string {
  const config = load(policies);
  const issuer = config.issuers.find((i) => i.name === 'actions')!;
  try {
    return matchPolicy(c, issuer, config.policies).name;
  } catch (err) {
    if (err instanceof BrokerError) return `denied:${err.reason}`;
    throw err;
  }
}

const mainOnly = [{ name: 'main', issuer: 'actions', match: { ...bound, ref: 'refs/heads/main' }, grant }];

describe('policy matching', () => {
  it.each([
    ['exact identity and ref', mainOnly, claims(), 'main'],
    ['B-61 owner prefix (acme vs acme-evil) never matches an exact id', mainOnly, claims({ repository_owner_id: '650' }), 'denied:identity_mismatch'],
    ['B-71 transferred repository: same repository_id, new owner id', mainOnly, claims({ repository_owner_id: '99', repository_owner: 'other-org' }), 'denied:identity_mismatch'],
    ['B-81 another tenant with the same names', mainOnly, claims({ repository_id: '1', repository_owner_id: '2' }), 'denied:no_matching_policy'],
    ['B-50 numeric repository_id claim is not coerced', mainOnly, claims({ repository_id: 74 }), 'denied:identity_mismatch'],
    ['B-77 tag with the branch name', mainOnly, claims({ ref: 'refs/tags/main', ref_type: 'tag' }), 'denied:ref_not_allowed'],
    ['B-62 absent claim denies', [{ name: 'env', issuer: 'actions', match: { ...bound, environment: 'prod' }, grant }], claims(), 'denied:environment_required'],
    ['B-66 other environment', [{ name: 'env', issuer: 'actions', match: { ...bound, environment: 'prod' }, grant }], claims({ environment: 'prod-test' }), 'denied:no_matching_policy'],
    ['B-63 pull_request is not a default event', mainOnly, claims({ event_name: 'pull_request' }), 'denied:event_not_allowed'],
    ['B-64 pull_request_target on main is refused by default', mainOnly, claims({ event_name: 'pull_request_target' }), 'denied:event_not_allowed'],
    ['B-65 workflow_run refused by default', mainOnly, claims({ event_name: 'workflow_run' }), 'denied:event_not_allowed'],
    ['B-65 issue_comment refused by default', mainOnly, claims({ event_name: 'issue_comment' }), 'denied:event_not_allowed'],
    ['B-65 pull_request_review refused by default', mainOnly, claims({ event_name: 'pull_request_review' }), 'denied:event_not_allowed'],
    ['pull_request_target admitted when named verbatim', [{ name: 'prt', issuer: 'actions', match: { ...bound, event_name: ['pull_request_target'] }, grant }], claims({ event_name: 'pull_request_target' }), 'prt'],
    ['pattern event_name admits ordinary events', [{ name: 'p', issuer: 'actions', match: { ...bound, event_name: { pattern: 'push|release' } }, grant }], claims(), 'p'],
    ['B-69 reusable workflow pinned, attacker ref', [{ name: 'wf', issuer: 'actions', match: { ...bound, job_workflow_ref: 'octo-org/platform/.github/workflows/claude.yml@refs/heads/main' }, grant }], claims({ job_workflow_ref: 'octo-org/platform/.github/workflows/claude.yml@refs/heads/attacker' }), 'denied:workflow_not_allowed'],
    ['B-70 local copy of the reusable workflow', [{ name: 'wf', issuer: 'actions', match: { ...bound, job_workflow_ref: 'octo-org/platform/.github/workflows/claude.yml@refs/heads/main' }, grant }], claims({ job_workflow_ref: 'octo-org/octo-repo/.github/workflows/claude.yml@refs/heads/main' }), 'denied:workflow_not_allowed'],
    ['anchored pattern: reject prefix of workflow ref', [{ name: 'wf', issuer: 'actions', match: { ...bound, job_workflow_ref: { pattern: 'octo-org/platform/\\.github/workflows/claude\\.yml@refs/heads/main' } }, grant }], claims({ job_workflow_ref: 'octo-org/platform/.github/workflows/claude.yml@refs/heads/main-evil' }), 'denied:workflow_not_allowed'],
    ['B-75 self-hosted runner', [{ name: 'hosted', issuer: 'actions', match: { ...bound, runner_environment: 'github-hosted' }, grant }], claims({ runner_environment: 'self-hosted' }), 'denied:runner_not_allowed'],
    ['B-76 public repository where private is required', [{ name: 'private', issuer: 'actions', match: { ...bound, repository_visibility: ['private', 'internal'] }, grant }], claims({ repository_visibility: 'public' }), 'denied:no_matching_policy'],
    ['B-73 legacy-grammar sub policy matches the immutable sub', [{ name: 'sub', issuer: 'actions', match: { ...bound, sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }, grant }], claims(), 'sub'],
    ['B-73 immutable-grammar sub policy matches', [{ name: 'sub', issuer: 'actions', match: { ...bound, sub: 'repo:octo-org@65/octo-repo@74:ref:refs/heads/main' }, grant }], claims(), 'sub'],
    ['B-73 legacy sub policy does not match another branch', [{ name: 'sub', issuer: 'actions', match: { ...bound, sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }, grant }], claims({ sub: 'repo:octo-org@65/octo-repo@74:ref:refs/heads/dev' }), 'denied:no_matching_policy'],
    ['B-74 custom sub template: policy matches individual claims', mainOnly, claims({ sub: 'repository_owner_id:65:repository_visibility:private' }), 'main'],
    ['list of exact values', [{ name: 'l', issuer: 'actions', match: { ...bound, ref: ['refs/heads/main', 'refs/heads/release'] }, grant }], claims({ ref: 'refs/heads/release' }), 'l'],
    ['boolean claim compared as "true"', [{ name: 'b', issuer: 'actions', match: { ...bound, repo_property_ai: 'true' }, grant }], claims({ repo_property_ai: true }), 'b'],
    ['array claim is a wrong type for GitHub', mainOnly, claims({ ref: ['refs/heads/main'] }), 'denied:ref_not_allowed'],
  ])('%s', (_name, policies, c, expected) => {
    expect(decide(policies, c)).toBe(expected);
  });

  it('takes the first matching policy in config order', () => {
    const policies = [
      { name: 'narrow', issuer: 'actions', match: { ...bound, ref: 'refs/heads/main', environment: 'prod' }, grant },
      { name: 'broad', issuer: 'actions', match: { ...bound }, grant },
    ];
    expect(decide(policies, claims({ environment: 'prod' }))).toBe('narrow');
    expect(decide(policies, claims())).toBe('broad');
  });

  it('explains a denial with the policy, the claim and the token value, never the expected value', () => {
    const policies = [{ name: 'docs-bot', issuer: 'actions', match: { ...bound, job_workflow_ref: 'octo-org/secret-platform/.github/workflows/x.yml@refs/heads/main' }, grant }];
    const config = load(policies);
    const issuer = config.issuers.find((i) => i.name === 'actions')!;
    let error: BrokerError | undefined;
    try {
      matchPolicy(claims({ event_name: 'pull_request_target' }), issuer, config.policies);
    } catch (err) {
      error = err as BrokerError;
    }
    expect(error?.status).toBe(403);
    expect(error?.message).toMatch(/policy docs-bot matches repository_id "74"/);
    expect(error?.message).toMatch(/pull_request_target/);
    expect(error?.message).toMatch(/match\.event_name/);
    expect(error?.message).not.toContain('secret-platform');
  });

  it('no policy for the identity names the repository and event', () => {
    const config = load(mainOnly);
    const issuer = config.issuers.find((i) => i.name === 'actions')!;
    expect(() => matchPolicy(claims({ repository_id: '1', repository_owner_id: '2', event_name: 'pull_request_target' }), issuer, config.policies)).toThrow(
      /no policy for issuer actions matches repository_id "1".*on event "pull_request_target"/,
    );
  });

  it('IdP policies bind sub and can match array claims such as groups', () => {
    const idp = { name: 'okta', kind: 'oidc', issuer: 'https://idp.example.com' };
    const config = load([{ name: 'people', issuer: 'okta', match: { sub: ['00u1', '00u2'], groups: 'skillgate-users' }, grant }], [idp]);
    const issuer = config.issuers.find((i) => i.name === 'okta')!;
    expect(matchPolicy({ iss: idp.issuer, sub: '00u1', groups: ['eng', 'skillgate-users'] }, issuer, config.policies).name).toBe('people');
    expect(() => matchPolicy({ iss: idp.issuer, sub: '00u1', groups: ['eng'] }, issuer, config.policies)).toThrow(BrokerError);
    expect(() => matchPolicy({ iss: idp.issuer, sub: '00u3', groups: ['skillgate-users'] }, issuer, config.policies)).toThrow(/no policy for issuer okta matches sub "00u3"/);
  });

  it('a policy of one issuer never matches tokens of another', () => {
    const idp = { name: 'okta', kind: 'oidc', issuer: 'https://idp.example.com' };
    const config = load([...mainOnly], [idp]);
    const okta = config.issuers.find((i) => i.name === 'okta')!;
    expect(() => matchPolicy({ ...claims(), iss: idp.issuer }, okta, config.policies)).toThrow(/no policy for issuer okta/);
  });
});

describe('policy compile errors', () => {
  it.each([
    ['B-59 issuer and audience alone', [{ name: 'open', issuer: 'actions', match: { ref: 'refs/heads/main' }, grant }], /policies\[0\] \(open\)\.match: binds no identity/],
    ['B-60 wildcard owner pattern', [{ name: 'wild', issuer: 'actions', match: { repository_owner_id: { pattern: '.*' } }, grant }], /identity claims must be exact values/],
    ['name-only binding', [{ name: 'names', issuer: 'actions', match: { repository: 'octo-org/octo-repo' }, grant }], /binds no identity; add repository_id or repository_owner_id/],
    ['pattern admitting pull_request_target', [{ name: 'p', issuer: 'actions', match: { ...bound, event_name: { pattern: 'pull_request.*' } }, grant }], /admits pull_request_target/],
    ['invalid regex', [{ name: 'r', issuer: 'actions', match: { ...bound, ref: { pattern: '(' } }, grant }], /match\.ref\.pattern: invalid regular expression/],
    ['unknown issuer', [{ name: 'u', issuer: 'nope', match: bound, grant }], /no issuer named "nope"/],
    ['duplicate names', [{ name: 'd', issuer: 'actions', match: bound, grant }, { name: 'd', issuer: 'actions', match: bound, grant }], /policy name "d" is used twice/],
    ['unknown scope', [{ name: 's', issuer: 'actions', match: bound, grant: { scopes: ['admin:all'], ttl: '1m' } }], /grant\.scopes\[0\]: must be one of/],
  ])('%s', (_name, policies, problem) => {
    expect(() => load(policies)).toThrow(problem);
  });
});
