// The `reconciler:` config section: defaults, and every problem named with its field and fix.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../broker/config/load-config.ts';
import { testConfig } from './fixtures.ts';

const problemsOf = (reconciler: Record<string, unknown>): string[] => {
  try {
    testConfig(reconciler);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('reconciler config', () => {
  it('fills in defaults', () => {
    const r = testConfig({ github: { token: 'env:GITHUB_TOKEN', orgs: ['octo-org'] } }).reconciler!;
    expect(r).toMatchObject({ staleAfterSec: 7 * 86_400, safety: { maxShare: 0.25, floor: 3 }, scopeDriftWindowSec: 30 * 86_400, github: { apiUrl: 'https://api.github.com', repositories: true, exemptActors: [] } });
    expect(r.schedule).toBeUndefined();
  });

  it.each([
    [{ schedule: 'every 15 minutes' }, 'reconciler.schedule: "every 15 minutes" is not a cron expression'],
    [{ timezone: 'Mars/Olympus' }, 'reconciler.timezone'],
    [{ github: { token: 'ghp_pasted_literal_token', orgs: ['octo-org'] } }, 'reconciler.github.token'],
    [{ github: { token: 'env:T', orgs: ['octo-org'], api_url: 'http://github.example.com' } }, 'reconciler.github.api_url'],
    [{ idp: { claim: 'email' } }, 'reconciler.idp: give exactly one directory source'],
    [{ idp: { file: 'x', scim_url: 'https://idp.example.com/scim/v2' } }, 'reconciler.idp: give exactly one directory source'],
    [{ idp: { file: 'x', issuers: ['github'] } }, 'reconciler.idp.issuers[0]: "github" is not an issuer of kind oidc'],
    [{ reports: { github_issue: { repository: 'octo-org/security' } } }, 'reconciler.reports.github_issue: files issues with github.token'],
    [{ anthropic_keys: { admin_key: 'aws-sm://?region=nowhere' } }, 'reconciler.anthropic_keys.admin_key'],
    [{ safety: { max_share: 1.5 } }, 'reconciler.safety.max_share'],
  ])('refuses %j', (reconciler, problem) => {
    expect(problemsOf(reconciler).join('\n')).toContain(problem);
  });
});
