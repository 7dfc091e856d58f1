import type { SourceStatus } from '../findings.ts';
import { describeGithubError, type CountingClient } from './github-client.ts';

/** Everyone in the configured orgs, by immutable id and by login (lower-cased). */
export interface Membership {
  ids: ReadonlySet<string>;
  logins: ReadonlySet<string>;
}

/**
 * `listMembers` pages through `GET /orgs/{org}/members` once per org (100 a page), whatever the
 * number of tokens. A failed org or an org with no members at all fails the whole source: an
 * actor missing from a partial or empty list may well still be a member.
 */
export async function listMembers(client: CountingClient, orgs: readonly string[]): Promise<{ membership?: Membership; source: SourceStatus }> {
  const ids = new Set<string>();
  const logins = new Set<string>();
  const before = client.calls();
  const status = (s: SourceStatus['status'], detail: string): SourceStatus => ({ name: 'github_members', status: s, detail, calls: client.calls() - before });
  for (const org of orgs) {
    let count = 0;
    try {
      for await (const page of client.octokit.paginate.iterator(client.octokit.rest.orgs.listMembers, { org, per_page: 100 })) {
        for (const member of page.data) {
          ids.add(String(member.id));
          logins.add(member.login.toLowerCase());
          count++;
        }
      }
    } catch (err) {
      return { source: status('failed', `listing members of ${org} failed: ${describeGithubError(err)}`) };
    }
    if (count === 0) return { source: status('implausible', `${org} returned no members; an organization always has at least one, so the token likely lacks read:org`) };
  }
  return { membership: { ids, logins }, source: status('ok', `${ids.size} members in ${orgs.join(', ')}`) };
}
