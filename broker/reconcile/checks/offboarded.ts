import type { IssuerSpec } from '../../exchange/issuers.ts';
import type { TokenRecord } from '../../store/store.ts';
import type { CheckResult, Finding, Inventory, SourceStatus } from '../findings.ts';
import type { Membership } from '../sources/github-members.ts';

/**
 * `checkOffboarded` revokes workflow tokens whose actor is in none of the configured orgs. The
 * actor is matched by its immutable id when the token kept one, by login otherwise. App and bot
 * actors (`…[bot]`) and `exemptActors` are never members, so they are never judged.
 */
export function checkOffboarded(
  inv: Inventory,
  input: { membership?: Membership; source: SourceStatus; orgs: readonly string[]; exemptActors: readonly string[]; issuers: readonly IssuerSpec[] },
): CheckResult {
  const exempt = new Set(input.exemptActors.map((a) => a.toLowerCase()));
  const github = new Set(input.issuers.filter((i) => i.kind === 'github').map((i) => i.name));
  const judged = inv.active.filter((t) => judgeable(t, github, exempt));
  const findings: Finding[] = [];
  const { membership } = input;
  if (membership && input.source.status === 'ok') {
    for (const token of judged) {
      const { actor, actor_id } = token.identity;
      const member = actor_id !== undefined ? membership.ids.has(actor_id) : membership.logins.has((actor ?? '').toLowerCase());
      if (!member) findings.push({ token, reason: 'actor_offboarded', detail: `actor ${actor ?? '?'}${actor_id !== undefined ? ` (id ${actor_id})` : ''} is a member of none of ${input.orgs.join(', ')}` });
    }
  }
  return { check: 'offboarded', checked: judged.length, findings, source: input.source, notes: [] };
}

function judgeable(token: TokenRecord, githubIssuers: ReadonlySet<string>, exempt: ReadonlySet<string>): boolean {
  const actor = token.identity.actor;
  if (actor === undefined && token.identity.actor_id === undefined) return false;
  // A token of an issuer no longer configured is judged if it looks like a workflow's.
  if (!githubIssuers.has(token.issuer) && token.identity.repository_id === undefined) return false;
  const login = (actor ?? '').toLowerCase();
  return !login.endsWith('[bot]') && !exempt.has(login);
}
