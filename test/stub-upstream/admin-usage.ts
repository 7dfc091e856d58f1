/**
 * Usage and cost reports (§4.3). The usage report aggregates the ledger `usage-meter.ts` fills
 * from the replies the stub really served, plus anything a test planted with `admin.addUsage`.
 *
 * Buckets are snapped to the start of their UTC minute, hour or day. Without `ending_at` they run
 * up to the bucket holding "now"; with it, every bucket starting before `ending_at` is included,
 * so "the last 30 days until now" includes today. Pages hold `limit` buckets and use the report
 * cursor (`page` → `{data, has_more, next_page}`). Grouped-out dimensions are `null`.
 */
import type { UsageEntry } from './admin-store.ts';
import type { Route, StubContext } from './context.ts';
import { queryList, queryValue } from './context.ts';
import { invalidRequest } from './errors.ts';
import { DAY_MS, HOUR_MS } from './ids.ts';
import { cursorPage } from './pagination.ts';
import { sendJson } from './reply.ts';

const WIDTHS = {
  '1m': { ms: 60_000, defaultLimit: 60, maxLimit: 1440 },
  '1h': { ms: HOUR_MS, defaultLimit: 24, maxLimit: 168 },
  '1d': { ms: DAY_MS, defaultLimit: 7, maxLimit: 31 },
} as const;

const DIMENSIONS = ['api_key_id', 'workspace_id', 'model', 'service_tier', 'context_window', 'inference_geo', 'speed', 'account_id', 'service_account_id'] as const;
type Dimension = (typeof DIMENSIONS)[number];

/** The value of a dimension for one entry; the stub serves every request the same way. */
function dimension(entry: UsageEntry, name: Dimension): string | null {
  if (name === 'api_key_id') return entry.apiKeyId;
  if (name === 'workspace_id') return entry.workspaceId;
  if (name === 'model') return entry.model;
  if (name === 'service_tier' || name === 'speed') return 'standard';
  if (name === 'context_window') return '0-200k';
  if (name === 'inference_geo') return 'global';
  return null;
}

function readTime(ctx: StubContext, name: string): number | undefined {
  const raw = queryValue(ctx, name);
  if (raw === undefined) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw invalidRequest(`${name}: Input should be a valid datetime`);
  return at;
}

function readGroupBy(ctx: StubContext): Dimension[] {
  const groupBy = queryList(ctx, 'group_by');
  for (const [i, name] of groupBy.entries()) {
    if (!(DIMENSIONS as readonly string[]).includes(name)) {
      throw invalidRequest(`group_by.${i}: Input should be ${DIMENSIONS.map((d) => `'${d}'`).join(', ')}`);
    }
  }
  return groupBy as Dimension[];
}

/** Entries passing the `api_key_ids[]`, `workspace_ids[]` and `models[]` filters. */
function filtered(ctx: StubContext): UsageEntry[] {
  const filters: [Dimension, string[]][] = [
    ['api_key_id', queryList(ctx, 'api_key_ids')],
    ['workspace_id', queryList(ctx, 'workspace_ids')],
    ['model', queryList(ctx, 'models')],
  ];
  return ctx.state.admin.usage.filter((entry) =>
    filters.every(([name, wanted]) => wanted.length === 0 || wanted.includes(dimension(entry, name) ?? '')),
  );
}

function aggregate(entries: readonly UsageEntry[], groupBy: readonly Dimension[]) {
  const rows = new Map<string, ReturnType<typeof emptyRow>>();
  for (const entry of entries) {
    const dims = Object.fromEntries(DIMENSIONS.map((d) => [d, groupBy.includes(d) ? dimension(entry, d) : null]));
    const key = JSON.stringify(dims);
    const row = rows.get(key) ?? emptyRow(dims);
    rows.set(key, row);
    row.uncached_input_tokens += entry.uncachedInputTokens;
    row.cache_read_input_tokens += entry.cacheReadInputTokens;
    row.cache_creation.ephemeral_5m_input_tokens += entry.cacheCreation5mTokens;
    row.cache_creation.ephemeral_1h_input_tokens += entry.cacheCreation1hTokens;
    row.output_tokens += entry.outputTokens;
    row.server_tool_use.web_search_requests += entry.webSearchRequests;
  }
  return [...rows.values()];
}

function emptyRow(dims: Record<string, string | null>) {
  return {
    ...dims,
    uncached_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_1h_input_tokens: 0, ephemeral_5m_input_tokens: 0 },
    output_tokens: 0,
    server_tool_use: { web_search_requests: 0 },
  };
}

function usageReport(ctx: StubContext): void {
  const start = readTime(ctx, 'starting_at');
  if (start === undefined) throw invalidRequest('starting_at: Field required');
  const widthName = queryValue(ctx, 'bucket_width') ?? '1d';
  if (!(widthName in WIDTHS)) throw invalidRequest("bucket_width: Input should be '1d', '1m' or '1h'");
  const width = WIDTHS[widthName as keyof typeof WIDTHS];
  const end = readTime(ctx, 'ending_at') ?? Date.now() + 1;
  if (end <= start) throw invalidRequest('ending_at: must be after starting_at');
  const groupBy = readGroupBy(ctx);
  const entries = filtered(ctx);

  const starts: number[] = [];
  for (let t = Math.floor(start / width.ms) * width.ms; t < end; t += width.ms) starts.push(t);
  const page = cursorPage(ctx, starts, width.defaultLimit, width.maxLimit);
  const data = page.data.map((from) => ({
    starting_at: new Date(from).toISOString(),
    ending_at: new Date(from + width.ms).toISOString(),
    results: aggregate(entries.filter((e) => e.at >= from && e.at < from + width.ms), groupBy),
  }));
  sendJson(ctx, 200, { data, has_more: page.has_more, next_page: page.next_page });
}

/** The cost report is a static fixture (§8): it cannot be grouped by key, so nothing needs it live. */
function costReport(ctx: StubContext): void {
  const start = readTime(ctx, 'starting_at');
  if (start === undefined) throw invalidRequest('starting_at: Field required');
  const from = Math.floor(start / DAY_MS) * DAY_MS;
  const result = {
    currency: 'USD',
    amount: '1234.5678',
    cost_type: 'tokens',
    description: 'Claude Sonnet 5 Usage - Input Tokens',
    model: 'claude-sonnet-5',
    service_tier: 'standard',
    token_type: 'uncached_input_tokens',
    context_window: '0-200k',
    inference_geo: null,
    workspace_id: null,
  };
  const bucket = { starting_at: new Date(from).toISOString(), ending_at: new Date(from + DAY_MS).toISOString(), results: [result] };
  sendJson(ctx, 200, { data: [bucket], has_more: false, next_page: null });
}

export const usageRoutes: Route[] = [
  { method: 'GET', path: '/v1/organizations/usage_report/messages', handle: usageReport },
  { method: 'GET', path: '/v1/organizations/cost_report', handle: costReport },
];
