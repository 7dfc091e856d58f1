import type { SourceStatus } from '../findings.ts';
import { describeGithubError, httpStatus, type CountingClient } from './github-client.ts';

/** What GitHub says about a repository now; `deleted` when it answers 404 for the id. */
export type RepositoryState = { deleted: true } | { deleted: false; ownerId: string; fullName: string; archived: boolean; visibility: string };

/**
 * `lookUpRepositories` asks `GET /repositories/{id}` once per distinct id — by id, because a name
 * can be reused after a rename or transfer. Requests go one at a time. The first lookup that fails
 * (after the client's retries) stops the rest and fails the source. A 404 for every id is
 * implausible: GitHub answers 404 for private repositories a token cannot see, so it most likely
 * means the token lost access, not that everything was deleted.
 */
export async function lookUpRepositories(client: CountingClient, ids: readonly string[]): Promise<{ states?: ReadonlyMap<string, RepositoryState>; source: SourceStatus }> {
  const states = new Map<string, RepositoryState>();
  const before = client.calls();
  const status = (s: SourceStatus['status'], detail: string): SourceStatus => ({ name: 'github_repositories', status: s, detail, calls: client.calls() - before });
  for (const id of ids) {
    try {
      const { data } = await client.octokit.request('GET /repositories/{repository_id}', { repository_id: Number(id) });
      const repo = data as { full_name: string; owner: { id: number }; archived?: boolean; visibility?: string; private: boolean };
      states.set(id, { deleted: false, ownerId: String(repo.owner.id), fullName: repo.full_name, archived: repo.archived === true, visibility: repo.visibility ?? (repo.private ? 'private' : 'public') });
    } catch (err) {
      if (httpStatus(err) === 404) {
        states.set(id, { deleted: true });
        continue;
      }
      return { source: status('failed', `looking up repository ${id} failed: ${describeGithubError(err)}; ${ids.length - states.size - 1} lookups not made`) };
    }
  }
  const deleted = [...states.values()].filter((s) => s.deleted).length;
  if (ids.length >= 2 && deleted === ids.length) {
    return { source: status('implausible', `all ${ids.length} repositories answered 404; the token most likely cannot see them (GitHub hides private repositories as 404)`) };
  }
  return { states, source: status('ok', `${ids.length} repositories looked up, ${deleted} not found`) };
}
