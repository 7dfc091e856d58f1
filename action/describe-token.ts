import type { TokenDescription } from './broker-client.ts';

const IDENTITY_ORDER = ['repository', 'repository_id', 'repository_owner', 'repository_owner_id', 'ref', 'sha', 'event_name', 'environment', 'actor', 'run_id', 'run_attempt', 'workflow_ref', 'job_workflow_ref', 'runner_environment', 'sub'];

/**
 * `describeTokenLines` renders `GET /v1/whoami` for the job log: what the broker verified and
 * granted. The token itself is not in the description, and never passed here.
 */
export function describeTokenLines(t: TokenDescription, now: number): string[] {
  const expires = Date.parse(t.expires_at);
  const left = Number.isFinite(expires) ? ` (in ${Math.max(0, Math.round((expires - now) / 60_000))} min)` : '';
  const known = IDENTITY_ORDER.filter((k) => t.identity[k] !== undefined && t.identity[k] !== '');
  const rest = Object.keys(t.identity).filter((k) => !IDENTITY_ORDER.includes(k) && t.identity[k] !== undefined && t.identity[k] !== '').sort();
  const width = Math.max(...[...known, ...rest].map((k) => k.length), 'session'.length);
  const row = (key: string, value: unknown) => `${key.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`;
  return [
    row('session', t.id),
    row('policy', t.policy),
    row('scopes', t.scopes.join(' ')),
    row('expires', `${t.expires_at}${left}`),
    row('state', t.state),
    ...[...known, ...rest].map((k) => row(k, t.identity[k])),
  ];
}
