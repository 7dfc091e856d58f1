import { formatDuration } from '../../config/duration.ts';
import type { SourceStatus } from '../findings.ts';
import { KEY_REASON_CODES, type KeyReason } from '../reasons.ts';
import { AdminApiError, type AdminApi, type ApiKey } from '../sources/admin-api.ts';

/** A long-lived key that should stop working, with every reason that applies (the first is primary). */
export interface KeyFinding {
  key: ApiKey;
  reasons: { reason: KeyReason; detail: string }[];
  /** Why it must never be deactivated automatically, when it must not. */
  exempt?: string;
}

export interface KeyInspection {
  checked: number;
  findings: KeyFinding[];
  source: SourceStatus;
}

/**
 * `inspectApiKeys` inventories the organization's active keys and flags those whose creator or
 * owner left the organization, that saw no usage for `staleAfterSec` (keys younger than that are
 * spared), or that outlived their `expires_at`. An empty user list is implausible (every
 * organization has its admin), so nothing is flagged on it. Keys listed in `exempt`, and the
 * broker's own upstream key (recognised by its partial hint), are reported but never deactivated.
 */
export async function inspectApiKeys(api: AdminApi, opts: { now: number; staleAfterSec: number; exempt: readonly string[]; upstreamKey?: string }): Promise<KeyInspection> {
  const status = (s: SourceStatus['status'], detail: string): SourceStatus => ({ name: 'admin_api', status: s, detail, calls: api.calls() });
  let users: Set<string>;
  let keys: ApiKey[];
  let used: Set<string>;
  const since = opts.now - opts.staleAfterSec * 1000;
  try {
    users = await api.userIds();
    if (users.size === 0) return { checked: 0, findings: [], source: status('implausible', 'the organization lists no users; the admin key probably belongs to another organization or lost its role') };
    keys = await api.activeKeys();
    used = await api.usedKeyIds(new Date(since), new Date(opts.now));
  } catch (err) {
    if (!(err instanceof AdminApiError)) throw err;
    return { checked: 0, findings: [], source: status('failed', err.message) };
  }
  const window = formatDuration(opts.staleAfterSec);
  const findings: KeyFinding[] = [];
  for (const key of keys) {
    const reasons: KeyFinding['reasons'] = [];
    const owner = key.principal?.type === 'user_actor' ? key.principal.user_id : undefined;
    if (key.created_by?.type === 'user' && !users.has(key.created_by.id)) reasons.push({ reason: 'key_creator_offboarded', detail: `created by ${key.created_by.id}, no longer a member` });
    else if (owner !== undefined && !users.has(owner)) reasons.push({ reason: 'key_creator_offboarded', detail: `owned by ${owner}, no longer a member` });
    if (Date.parse(key.created_at) < since && !used.has(key.id)) reasons.push({ reason: 'key_unused', detail: `no usage in the last ${window}` });
    if (key.expires_at && Date.parse(key.expires_at) <= opts.now) reasons.push({ reason: 'key_past_expiry', detail: `expired at ${key.expires_at} but still active` });
    if (reasons.length === 0) continue;
    reasons.sort((a, b) => KEY_REASON_CODES.indexOf(a.reason) - KEY_REASON_CODES.indexOf(b.reason));
    const exempt = opts.exempt.includes(key.id) ? 'listed under anthropic_keys.exempt' : isUpstreamKey(key, opts.upstreamKey) ? "the broker's own upstream key: rotate it by hand" : undefined;
    findings.push({ key, reasons, ...(exempt !== undefined && { exempt }) });
  }
  return { checked: keys.length, findings, source: status('ok', `${keys.length} active keys, ${users.size} users, ${used.size} keys with usage in ${window}`) };
}

/** The Console's hint shows a key's first and last characters (`sk-ant-api03-R2D...igAA`). */
function isUpstreamKey(key: ApiKey, upstream: string | undefined): boolean {
  const hint = key.partial_key_hint;
  if (!hint || upstream === undefined) return false;
  const [head, tail] = hint.split('...');
  return head !== undefined && tail !== undefined && head.length >= 8 && upstream.startsWith(head) && upstream.endsWith(tail);
}
