import type { TokenRecord } from '../../store/store.ts';
import type { CheckResult, Finding, Inventory, SourceStatus } from '../findings.ts';
import type { RepositoryState } from '../sources/github-repositories.ts';

/** `repositoryIds` lists the distinct repositories active tokens were minted for: one lookup each. */
export function repositoryIds(inv: Inventory): string[] {
  return [...new Set(inv.active.flatMap((t) => (t.identity.repository_id === undefined ? [] : [t.identity.repository_id])))];
}

/**
 * `checkRepositories` revokes tokens whose repository was deleted, transferred to another owner,
 * made public after the token was minted for a private or internal one, or archived.
 */
export function checkRepositories(inv: Inventory, input: { states?: ReadonlyMap<string, RepositoryState>; source: SourceStatus }): CheckResult {
  const tokens = inv.active.filter((t) => t.identity.repository_id !== undefined);
  const findings: Finding[] = [];
  if (input.states && input.source.status === 'ok') {
    for (const token of tokens) {
      const state = input.states.get(token.identity.repository_id!);
      const finding = state && judge(token, state);
      if (finding) findings.push(finding);
    }
  }
  return { check: 'repositories', checked: tokens.length, findings, source: input.source, notes: [] };
}

function judge(token: TokenRecord, state: RepositoryState): Finding | undefined {
  const { repository, repository_id: id, repository_owner_id: ownerId, repository_visibility: visibility } = token.identity;
  const name = `${repository ?? 'repository'} (id ${id})`;
  if (state.deleted) return { token, reason: 'repository_deleted', detail: `${name} no longer exists` };
  if (ownerId !== undefined && state.ownerId !== ownerId) {
    return { token, reason: 'repository_transferred', detail: `${name} moved from owner id ${ownerId} to ${state.ownerId} (now ${state.fullName})` };
  }
  if ((visibility === 'private' || visibility === 'internal') && state.visibility === 'public') {
    return { token, reason: 'repository_made_public', detail: `${name} was ${visibility} when the token was minted and is public now` };
  }
  if (state.archived) return { token, reason: 'repository_archived', detail: `${name} is archived` };
  return undefined;
}
