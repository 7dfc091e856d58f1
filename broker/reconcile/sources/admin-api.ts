/** An organization API key as the Admin API lists it (both the classic and the 2026 shape). */
export interface ApiKey {
  id: string;
  name: string;
  status: string;
  created_at: string;
  expires_at?: string | null;
  partial_key_hint?: string | null;
  workspace_id?: string | null;
  created_by?: { id: string; type: string } | null;
  principal?: { type: string; user_id?: string } | null;
}

interface Page<T> {
  data: T[];
  has_more: boolean;
  last_id?: string | null;
  next_page?: string | null;
}

interface UsageBucket {
  results: { api_key_id: string | null; uncached_input_tokens?: number; cache_read_input_tokens?: number; output_tokens?: number; cache_creation?: Record<string, number> | null }[];
}

const VERSION = '2023-06-01';
const TIMEOUT_MS = 30_000;
const MAX_PAGES = 1000;

/** Failure talking to the Admin API: status and path only, never a body (it may echo the key). */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
}

export type AdminApi = ReturnType<typeof createAdminApi>;

/**
 * `createAdminApi` is the reconciler's client for the Anthropic Admin API (reference §4): users
 * and keys paged by `after_id` (1000 a page), the messages usage report grouped by `api_key_id`
 * (paged by `page`), and setting a key inactive — reversible, unlike archiving.
 */
export function createAdminApi(opts: { baseUrl: string; adminKey: string }) {
  let calls = 0;
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    calls++;
    const res = await fetch(`${opts.baseUrl}${path}`, {
      method,
      headers: { 'x-api-key': opts.adminKey, 'anthropic-version': VERSION, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((err: Error) => {
      throw new AdminApiError(`${method} ${path.split('?')[0]}: no answer (${err.name})`);
    });
    if (!res.ok) throw new AdminApiError(`${method} ${path.split('?')[0]}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };

  const listAll = async <T>(path: string, query: Record<string, string>): Promise<T[]> => {
    const all: T[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const params = new URLSearchParams({ ...query, limit: '1000', ...(after !== undefined && { after_id: after }) });
      const body = await call<Page<T>>('GET', `${path}?${params}`);
      all.push(...body.data);
      if (!body.has_more || !body.last_id) return all;
      after = body.last_id;
    }
    throw new AdminApiError(`GET ${path}: more than ${MAX_PAGES} pages`);
  };

  return {
    calls: () => calls,
    /** Ids of every user in the organization. */
    async userIds(): Promise<Set<string>> {
      return new Set((await listAll<{ id: string }>('/v1/organizations/users', {})).map((u) => u.id));
    },
    activeKeys: () => listAll<ApiKey>('/v1/organizations/api_keys', { status: 'active' }),
    /** Keys with any token usage between `since` and `until`, from daily buckets grouped by key. */
    async usedKeyIds(since: Date, until: Date): Promise<Set<string>> {
      const used = new Set<string>();
      let page: string | undefined;
      for (let n = 0; n < MAX_PAGES; n++) {
        const params = new URLSearchParams({ starting_at: since.toISOString(), ending_at: until.toISOString(), bucket_width: '1d', limit: '31' });
        params.append('group_by[]', 'api_key_id');
        if (page !== undefined) params.set('page', page);
        const body = await call<Page<UsageBucket>>('GET', `/v1/organizations/usage_report/messages?${params}`);
        for (const bucket of body.data) {
          for (const r of bucket.results) if (r.api_key_id && tokensOf(r) > 0) used.add(r.api_key_id);
        }
        if (!body.has_more || !body.next_page) return used;
        page = body.next_page;
      }
      throw new AdminApiError(`GET /v1/organizations/usage_report/messages: more than ${MAX_PAGES} pages`);
    },
    async deactivate(id: string): Promise<void> {
      await call('POST', `/v1/organizations/api_keys/${encodeURIComponent(id)}`, { status: 'inactive' });
    },
  };
}

function tokensOf(r: UsageBucket['results'][number]): number {
  const creation = Object.values(r.cache_creation ?? {}).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  return (r.uncached_input_tokens ?? 0) + (r.cache_read_input_tokens ?? 0) + (r.output_tokens ?? 0) + creation;
}
