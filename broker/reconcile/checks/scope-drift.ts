import { formatDuration } from '../../config/duration.ts';
import type { CompiledPolicy } from '../../policy/compile-policies.ts';
import { classifyToolType } from '../../proxy/guard/tools.ts';
import type { StoredAuditRecord } from '../../audit/audit-record.ts';
import type { Store } from '../../store/store.ts';

/** Granted vs used for one policy over the window, and how to narrow it. */
export interface ScopeDrift {
  policy: string;
  window: string;
  requests: number;
  scopes: { granted: string[]; used: string[]; unused: string[] };
  tools: { granted: string[]; used: string[]; unused: string[] };
  /** Requests whose recorded body was cut short, so their tools are unknown. */
  unreadable: number;
  recommendation: string | null;
}

interface Usage {
  requests: number;
  scopes: Set<string>;
  tools: Set<string>;
  unreadable: number;
}

/** Proxied operations only: `audit:read` is used on the audit API, which `proxy.request` does not record. */
const NOT_PROXIED = new Set(['audit:read']);

/**
 * `measureScopeDrift` reads the `proxy.request` records of the window (their operation and the
 * masked request body the audit kept) and, per configured policy, sets what its grant allows
 * against what its tokens used. Tool narrowing is only advised when every body was readable.
 */
export async function measureScopeDrift(store: Store, policies: readonly CompiledPolicy[], now: number, windowSec: number): Promise<ScopeDrift[]> {
  const usage = new Map<string, Usage>(policies.map((p) => [p.name, { requests: 0, scopes: new Set(), tools: new Set(), unreadable: 0 }]));
  let after: number | undefined;
  do {
    const page = await store.queryAudit({ type: 'proxy.request', since: now - windowSec * 1000, limit: 1000, ...(after !== undefined && { after }) });
    for (const record of page.records) tally(usage, record);
    after = page.nextCursor;
  } while (after !== undefined);
  return policies.map((p) => describe(p, usage.get(p.name)!, windowSec));
}

function tally(usage: Map<string, Usage>, record: StoredAuditRecord): void {
  const u = usage.get(String(record.data?.['policy'] ?? ''));
  if (!u) return;
  u.requests++;
  if (record.operation !== undefined) u.scopes.add(record.operation);
  const captured = record.data?.['request'] as { body?: unknown; truncated?: boolean } | undefined;
  if (captured?.truncated) return void u.unreadable++;
  for (const tools of toolLists(captured?.body)) {
    for (const tool of tools) {
      const family = classifyToolType(typeof tool?.type === 'string' ? tool.type : undefined);
      if (family) u.tools.add(family);
    }
  }
}

/** Tool lists of a message body, or of every request in a batch body. */
function toolLists(body: unknown): { type?: unknown }[][] {
  if (!body || typeof body !== 'object') return [];
  const b = body as { tools?: unknown; requests?: { params?: { tools?: unknown } }[] };
  const lists: unknown[] = [b.tools, ...(Array.isArray(b.requests) ? b.requests.map((r) => r?.params?.tools) : [])];
  return lists.filter((l): l is { type?: unknown }[] => Array.isArray(l));
}

function describe(policy: CompiledPolicy, u: Usage, windowSec: number): ScopeDrift {
  const window = formatDuration(windowSec);
  const grantedScopes = policy.grant.scopes.filter((s) => !NOT_PROXIED.has(s));
  const grantedTools = policy.grant.tools === undefined ? ['custom'] : Object.entries(policy.grant.tools).filter(([, rule]) => rule === 'allow').map(([family]) => family);
  const scopes = { granted: grantedScopes, used: [...u.scopes].sort(), unused: grantedScopes.filter((s) => !u.scopes.has(s)) };
  const tools = { granted: grantedTools, used: [...u.tools].sort(), unused: u.unreadable > 0 ? [] : grantedTools.filter((t) => !u.tools.has(t)) };
  const advice: string[] = [];
  if (u.requests === 0) {
    advice.push(`no proxied requests in ${window}: remove the policy if it is no longer needed`);
  } else {
    if (scopes.unused.length > 0) advice.push(`narrow grant.scopes to [${scopes.granted.filter((s) => u.scopes.has(s)).join(', ')}] (${scopes.unused.join(', ')} unused in ${window})`);
    // `custom` is what an unset grant.tools allows; narrowing it means listing tools explicitly.
    const deny = tools.unused.filter((t) => policy.grant.tools !== undefined || t !== 'custom');
    if (deny.length > 0) advice.push(`set ${deny.map((t) => `grant.tools.${t}: deny`).join(', ')} (unused in ${window})`);
  }
  return { policy: policy.name, window, requests: u.requests, scopes, tools, unreadable: u.unreadable, recommendation: advice.length > 0 ? advice.join('; ') : null };
}
