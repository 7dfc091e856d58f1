// Turns every way the main step can fail into a message that says what happened and what to
// change, quoting input names and workflow keys (aws-actions style). No toolkit import.
import { BrokerRequestError } from './broker-client.ts';
import type { RunContext } from './run-context.ts';

/** A failure whose message is already written for the person reading the job log. */
export class ActionFailure extends Error {
  override readonly name = 'ActionFailure';
}

type Env = Record<string, string | undefined>;

/**
 * `checkOidcEnvironment` throws when the runner offers no ID-token endpoint: the job lacks
 * `id-token: write`, or GitHub withholds it (fork pull requests, Dependabot). Checked before any
 * request so the message names the cause rather than a failed HTTP call.
 */
export function checkOidcEnvironment(env: Env, ctx: RunContext): void {
  const missing = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'].filter((name) => !env[name]);
  if (missing.length === 0) return;
  const lines = [`skillgate: this job cannot request a GitHub OIDC token (${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set).`];
  if (ctx.pullRequest?.fromFork) {
    lines.push(
      `This run is for pull request #${ctx.pullRequest.number} from a fork${ctx.pullRequest.headRepository ? ` (${ctx.pullRequest.headRepository})` : ''}: GitHub never gives fork pull requests an ID token, whatever the workflow's permissions, so skillgate cannot issue a token here.`,
      'Fix: run the Claude step only for branches of this repository (e.g. `if: github.event.pull_request.head.repo.full_name == github.repository`), or from a trusted trigger a maintainer starts (workflow_dispatch, a push after review).',
    );
  } else if (ctx.actor === 'dependabot[bot]') {
    lines.push('This run was triggered by Dependabot, whose runs get no ID token: skip the Claude step for Dependabot (e.g. `if: github.actor != \'dependabot[bot]\'`).');
  } else {
    lines.push(
      'Fix: let the job request one by adding to the job (or the workflow):',
      '  permissions:',
      '    id-token: write',
      '    contents: read',
      'Setting `permissions:` replaces the defaults, so list every other permission the job needs too.',
    );
  }
  throw new ActionFailure(lines.join('\n'));
}

const POLICY_FIX =
  'run the job the way the policy expects (branch, event, environment, workflow), or ask the broker operator to change the trust policy. They can replay this decision with `skillgate policy explain <config> --claims claims.json`, using the claims printed above.';

/** The fix for each stable `reason` of a refused exchange (README table); families cover the rest. */
const FIXES: Record<string, (a: ExplainArgs) => string> = {
  audience_mismatch: (a) =>
    `the ID token was requested for audience "${a.audience}", which is not the broker's configured audience. Set the input audience to the broker's \`audience\` setting (ask its operator), or leave it empty when that setting is the broker URL.`,
  issuer_not_trusted: () => 'the broker does not trust this runner\'s OIDC issuer. GitHub Enterprise Server, GHE.com and enterprise-slug issuers must be listed under `issuers:` in the broker config.',
  expired: () => CLOCK_FIX,
  not_yet_valid: () => CLOCK_FIX,
  issued_in_future: () => CLOCK_FIX,
  too_old: () => CLOCK_FIX,
  replayed: () => 'this ID token was already exchanged (each one works once). Re-run the job; if it keeps happening, something else on the runner is using the token.',
  environment_required: () => `the policy admits this repository only in a deployment environment: add \`environment: <name>\` to the job, with the name the policy lists. ${POLICY_FIX.charAt(0).toUpperCase()}${POLICY_FIX.slice(1)}`,
  unknown_scope: () => 'the input scope names a scope the broker does not know. Use resource:action scopes such as "messages:create models:read", or leave scope empty to receive the policy\'s whole grant.',
  scope_exceeds_grant: () => 'the input scope asks for more than the policy grants; a request can only narrow the grant. Remove the extra scopes, or leave scope empty to receive the whole grant.',
};
const CLOCK_FIX = 'the ID token\'s time claims do not fit the broker\'s clock. Re-run the job; if it repeats, check the clock of the broker host (NTP) and of self-hosted runners.';

const FAMILY_FIXES: Record<string, (a: ExplainArgs) => string> = {
  policy_denied: () => POLICY_FIX,
  invalid_scope: (a) => FIXES['scope_exceeds_grant']!(a),
  invalid_token: () => 'the broker could not verify the ID token. Check that the broker trusts this GitHub instance\'s issuer and that its clock is right; the reason above names the check that failed.',
  invalid_request: () => 'the broker refused the shape of the request. Check the inputs ttl and scope, and that broker-url points to a skillgate broker of a compatible version.',
  idp_unavailable: () => 'the broker cannot fetch GitHub\'s OIDC keys right now, so it verifies nothing. Re-run later; the operator can see it in the broker\'s /readyz.',
  store_unavailable: () => 'the broker\'s store is unavailable, so it mints nothing (fail closed). Re-run later and tell the broker operator.',
  server_error: () => 'the broker failed internally. Re-run later; the request id lets the operator find it in the broker logs.',
};

export interface ExplainArgs {
  brokerUrl: string;
  audience: string;
}

/** `explainExchangeFailure` renders a failed token exchange as: what happened, the broker's words, the fix. */
export function explainExchangeFailure(err: unknown, args: ExplainArgs): string {
  if (err instanceof ActionFailure) return err.message;
  if (!(err instanceof BrokerRequestError)) {
    return `skillgate: could not get a token: ${err instanceof Error ? err.message : String(err)}`;
  }
  const d = err.details;
  if (err.kind === 'unreachable') {
    return [
      `skillgate: cannot reach the broker at ${args.brokerUrl} (${d.cause ?? 'no answer'}).`,
      `Fix: check the input broker-url, that the broker is running (GET ${args.brokerUrl}/healthz answers), and that this runner can reach it: GitHub-hosted runners need a public address; a private broker needs self-hosted runners or private networking.`,
    ].join('\n');
  }
  if (err.kind === 'unexpected') return `skillgate: ${err.message}.\nFix: check the input broker-url; it must be the broker's base URL.`;
  const fix = (d.reason !== undefined ? FIXES[d.reason] : undefined) ?? (d.error !== undefined ? FAMILY_FIXES[d.error] : undefined);
  return [
    `skillgate: the broker refused the token exchange: ${d.error ?? 'error'} / ${d.reason ?? 'unknown'} (HTTP ${d.status ?? '?'}${d.requestId ? `, request ${d.requestId}` : ''}).`,
    `Broker: ${err.message}`,
    ...(fix ? [`Fix: ${fix(args)}`] : []),
  ].join('\n');
}

/** Whether an exchange failure may succeed on another attempt (with a fresh ID token). */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof BrokerRequestError)) return false;
  if (err.kind === 'unreachable') return true;
  return err.details.status !== undefined && [502, 503, 504].includes(err.details.status);
}

const CLAIMS_SHOWN = [
  'sub', 'aud', 'iss', 'repository', 'repository_id', 'repository_owner', 'repository_owner_id', 'ref', 'ref_type', 'event_name',
  'environment', 'workflow_ref', 'job_workflow_ref', 'runner_environment', 'actor', 'actor_id', 'run_id', 'run_attempt',
] as const;

/**
 * `readIdTokenClaims` decodes (does not verify) the ID token's payload, keeping the claims policies
 * match on. None is secret; the signature, which is what makes the token usable, is never shown.
 */
export function readIdTokenClaims(idToken: string): Record<string, unknown> | undefined {
  const payload = idToken.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return Object.fromEntries(CLAIMS_SHOWN.filter((name) => claims[name] !== undefined).map((name) => [name, claims[name]]));
  } catch {
    return undefined;
  }
}
