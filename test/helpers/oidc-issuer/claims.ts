import { randomUUID } from 'node:crypto';

/** GitHub's own example token has nbf = iat − 600 s; verifiers must not assume nbf ≈ iat (B-43). */
export const NOT_BEFORE_SKEW_SECONDS = 600;
/** GitHub's tokens live 5 minutes: exp = iat + 300 s. */
export const TOKEN_LIFETIME_SECONDS = 300;

// The "test-fixture payload constructed by us" in reference/github-oidc.md, with the elided SHAs
// and jti filled in: every documented claim is present, IDs are strings as GitHub sends them.
const FIXTURE_CLAIMS = {
  ref: 'refs/heads/main',
  ref_type: 'branch',
  sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9001122334',
  repository: 'octo-org/octo-repo',
  repository_id: '74',
  repository_owner: 'octo-org',
  repository_owner_id: '65',
  repository_visibility: 'private',
  actor: 'octocat',
  actor_id: '12',
  event_name: 'push',
  head_ref: '',
  base_ref: '',
  environment: 'prod',
  workflow: 'release',
  workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  workflow_sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9001122334',
  job_workflow_ref: 'octo-org/platform/.github/workflows/claude.yml@refs/heads/main',
  job_workflow_sha: 'd4e5f60718293a4b5c6d7e8f9001122334a1b2c3',
  run_id: '1234567890',
  run_number: '42',
  run_attempt: '1',
  runner_environment: 'github-hosted',
  check_run_id: '9876543210',
  enterprise: 'octo-enterprise',
  enterprise_id: '2',
  repo_property_business_unit: 'payments',
} as const;

/** Claim names for the discovery document's `claims_supported`. */
export const SUPPORTED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', ...Object.keys(FIXTURE_CLAIMS)];

/**
 * `githubSubject` returns the `sub` GitHub issues for these claims: environment, then
 * pull_request, then ref context; `:` inside values escaped as `%3A`. The immutable form
 * `repo:OWNER@ID/REPO@ID:…` is the default; without both IDs (e.g. GHES) it falls back to legacy.
 */
export function githubSubject(claims: Record<string, unknown>, form: 'immutable' | 'legacy' = 'immutable'): string {
  const escape = (value: unknown): string => String(value).replaceAll(':', '%3A');
  const context =
    typeof claims.environment === 'string' && claims.environment !== ''
      ? `environment:${escape(claims.environment)}`
      : claims.event_name === 'pull_request'
        ? 'pull_request'
        : `ref:${escape(claims.ref)}`;
  const ownerId = claims.repository_owner_id;
  const repoId = claims.repository_id;
  if (form === 'legacy' || ownerId === undefined || repoId === undefined) {
    return `repo:${String(claims.repository)}:${context}`;
  }
  const repoName = String(claims.repository).split('/').slice(1).join('/');
  return `repo:${String(claims.repository_owner)}@${String(ownerId)}/${repoName}@${String(repoId)}:${context}`;
}

/**
 * `buildGithubClaims` returns a fresh full GitHub claim set issued at `nowMs`. Overrides win; a
 * key set to undefined is deleted; `sub` is derived from the final claims unless overridden.
 */
export function buildGithubClaims(
  base: { iss: string; aud: string; nowMs: number },
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const iat = Math.floor(base.nowMs / 1000);
  const claims: Record<string, unknown> = {
    iss: base.iss,
    aud: base.aud,
    sub: undefined,
    jti: randomUUID(),
    iat,
    nbf: iat - NOT_BEFORE_SKEW_SECONDS,
    exp: iat + TOKEN_LIFETIME_SECONDS,
    ...FIXTURE_CLAIMS,
    ...overrides,
  };
  if (!('sub' in overrides)) claims.sub = githubSubject(withoutUndefined(claims));
  return withoutUndefined(claims);
}

/** `withoutUndefined` drops keys whose value is undefined, the helpers' way of deleting a default. */
export function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
