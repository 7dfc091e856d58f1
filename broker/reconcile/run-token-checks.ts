import { checkExpired } from './checks/expired.ts';
import { checkIdpAccounts } from './checks/idp-accounts.ts';
import { checkOffboarded } from './checks/offboarded.ts';
import { checkPolicyDrift } from './checks/policy-drift.ts';
import { checkRepositories, repositoryIds } from './checks/repositories.ts';
import { checkStale } from './checks/stale.ts';
import type { CheckResult, Inventory, SourceStatus } from './findings.ts';
import { readSecret, type ReconcileDeps } from './reconcile-deps.ts';
import { readDirectory } from './sources/directory.ts';
import type { CountingClient } from './sources/github-client.ts';
import { listMembers } from './sources/github-members.ts';
import { lookUpRepositories } from './sources/github-repositories.ts';

/**
 * `runTokenChecks` runs every configured token check against one inventory. Local checks
 * (expiry, staleness, policy drift) always run; the GitHub and IdP checks run when configured,
 * each on a single read of its source. `github` is undefined when its token could not be read:
 * the GitHub checks then report their source failed with `githubError`.
 */
export async function runTokenChecks(deps: ReconcileDeps, inv: Inventory, github: CountingClient | undefined, githubError: string | undefined): Promise<CheckResult[]> {
  const s = deps.settings;
  const results: CheckResult[] = [checkExpired(inv), checkStale(inv, s.staleAfterSec), checkPolicyDrift(inv, deps.policies)];
  if (s.github) {
    const failed = (name: SourceStatus['name']): SourceStatus => ({ name, status: 'failed', detail: githubError ?? 'no GitHub client', calls: 0 });
    const members = github ? await listMembers(github, s.github.orgs) : { source: failed('github_members') };
    results.push(checkOffboarded(inv, { ...members, orgs: s.github.orgs, exemptActors: s.github.exemptActors, issuers: deps.issuers }));
    if (s.github.repositories) {
      const repositories = github ? await lookUpRepositories(github, repositoryIds(inv)) : { source: failed('github_repositories') };
      results.push(checkRepositories(inv, repositories));
    }
  }
  if (s.idp) {
    const source = s.idp.source;
    let directory: Awaited<ReturnType<typeof readDirectory>>;
    if (source.kind === 'scim' && deps.secrets.scimToken) {
      const token = await readSecret(deps.secrets.scimToken, 'reconciler.idp.scim_token');
      directory = 'error' in token ? { source: { name: 'idp', status: 'failed', detail: token.error, calls: 0 } } : await readDirectory({ ...source, token: token.value });
    } else {
      directory = await readDirectory(source);
    }
    results.push(checkIdpAccounts(inv, { ...directory, claim: s.idp.claim, issuers: s.idp.issuers }));
  }
  return results;
}
