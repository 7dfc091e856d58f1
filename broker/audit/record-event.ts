import type { Store, TokenIdentity } from '../store/store.ts';
import type { AuditRecord } from './audit-record.ts';

/**
 * `recordEvent` is the one way anything the broker does is written down: exchanges (granted or
 * denied), revocations, proxied calls, approvals, reconciler actions. It resolves once the record
 * is durably committed in the hash-chained log. (A granted exchange commits its record in the
 * same transaction as the token itself: `Store.commitExchange`.)
 */
export async function recordEvent(store: Store, record: AuditRecord): Promise<void> {
  await store.appendAudit(record);
}

/** `identityFields` copies who-and-where onto a record, so the log can be filtered by repository, run, PR and actor. */
export function identityFields(identity: Partial<TokenIdentity> | Readonly<Record<string, unknown>>): Pick<AuditRecord, 'repository' | 'repositoryId' | 'runId' | 'pr' | 'actor'> {
  const get = (name: string) => {
    const value = (identity as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  // A pull_request run's ref is refs/pull/<number>/merge: the only place the PR number appears.
  const pr = /^refs\/pull\/(\d+)\//.exec(get('ref') ?? '')?.[1];
  const fields = { repository: get('repository') ?? get('sub'), repositoryId: get('repository_id'), runId: get('run_id'), pr, actor: get('actor') ?? get('email') };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
