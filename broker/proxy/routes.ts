import type { ClassifiedRequest, Operation } from './operation.ts';

/**
 * The proxied Anthropic API surface (reference/anthropic-api.md §2, §3.1, §3.6–3.8, §3.10), one
 * row per method and exact path template. Each path exists once: the GA and beta variants of
 * Skills, Files and Batches share their paths and differ only by `?beta=true` and `anthropic-beta`,
 * so the same row serves both and `beta` is learned from the request. Anything not listed here is
 * denied by `classifyRequest` before a byte goes upstream.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Exact, case-sensitive path; `{name}` is a path parameter validated by `PATH_PARAMS[name]`. */
  template: string;
  operation: Operation;
  body: ClassifiedRequest['body'];
  mayStream: boolean;
  /** Allowlisted query parameters with their type; every other parameter is refused. */
  query: Readonly<Record<string, QueryParam>>;
}

export type QueryType = keyof typeof QUERY_TYPES;

export interface QueryParam {
  type: QueryType;
  /** How often the parameter may repeat (only `ids[]`); once when absent. */
  max?: number;
}

/** `claude-sonnet-4-5-20250929`, `claude-opus-4-1`, optionally with a `@20250929` snapshot suffix. */
const MODEL_ID = /^[a-z0-9][a-z0-9.-]{0,127}(?:@[0-9]{1,16})?$/;

/**
 * Path parameter patterns. Each admits only `[A-Za-z0-9._@-]`, is anchored, bounded and free of
 * nested quantifiers (linear time on any input), and cannot be `.` or `..`, so a validated value
 * can be pasted into the upstream path without encoding.
 */
export const PATH_PARAMS: Readonly<Record<string, RegExp>> = {
  // `skill_01JAbc…` for custom skills; Anthropic's own are short names (`pptx`, `pdf`).
  skill_id: /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/,
  // Beta: epoch microseconds (`1759178010641129`) or a date (`20251013`); GA: the version id; both: `latest`.
  version: /^(?:latest|[0-9]{1,20}|skillver_[A-Za-z0-9]{1,64})$/,
  file_id: /^file_[A-Za-z0-9]{1,64}$/,
  batch_id: /^msgbatch_[A-Za-z0-9]{1,64}$/,
  model_id: MODEL_ID,
};

/**
 * Query value types. A value is accepted as sent or refused, never repaired, so the upstream sees
 * exactly what the caller meant; `expects` completes the refusal message "limit must be …".
 */
export const QUERY_TYPES = {
  beta: { expects: 'be "true"', accepts: (v: string) => v === 'true' },
  limit: { expects: 'be an integer from 1 to 1000', accepts: (v: string) => /^[1-9][0-9]{0,3}$/.test(v) && Number(v) <= 1000 },
  /** Object ids as cursors or filters (`after_id`, `before_id`, `ids[]`, `scope_id`). */
  id: { expects: 'be an object id (letters, digits, "_" and "-")', accepts: (v: string) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(v) },
  model_id: { expects: 'be a model id', accepts: (v: string) => MODEL_ID.test(v) },
  /** Opaque `page` tokens such as `page_MjAyNS0wNS0xNFQwMDowMDowMFo=` (base64 or base64url). */
  page: { expects: 'be a page token from next_page', accepts: (v: string) => /^[A-Za-z0-9_+/=-]{1,512}$/.test(v) },
  skill_source: { expects: 'be "custom" or "anthropic"', accepts: (v: string) => v === 'custom' || v === 'anthropic' },
} satisfies Record<string, { expects: string; accepts: (value: string) => boolean }>;

const BETA: Readonly<Record<string, QueryParam>> = { beta: { type: 'beta' } };
const ID_PAGE = { ...BETA, limit: { type: 'limit' }, after_id: { type: 'id' }, before_id: { type: 'id' } } as const;
/** The models list pages by model id, not by an opaque object id. */
const MODELS_PAGE = { ...BETA, limit: { type: 'limit' }, after_id: { type: 'model_id' }, before_id: { type: 'model_id' } } as const;
const CURSOR_PAGE = { ...BETA, limit: { type: 'limit' }, page: { type: 'page' } } as const;
/** Beta files list pages by id; GA files list by cursor or an explicit `ids[]` set (max 100). */
const FILES_PAGE = { ...ID_PAGE, page: { type: 'page' }, 'ids[]': { type: 'id', max: 100 }, scope_id: { type: 'id' } } as const;

const none = { body: 'none', mayStream: false } as const;

export const ROUTES: readonly RouteSpec[] = [
  // Messages (§3.1, §3.6): count_tokens spends no output but reads the same prompt, so same scope.
  { method: 'POST', template: '/v1/messages', operation: 'messages:create', body: 'json', mayStream: true, query: BETA },
  { method: 'POST', template: '/v1/messages/count_tokens', operation: 'messages:create', body: 'json', mayStream: false, query: BETA },

  // Models (§3.7).
  { method: 'GET', template: '/v1/models', operation: 'models:read', ...none, query: MODELS_PAGE },
  { method: 'GET', template: '/v1/models/{model_id}', operation: 'models:read', ...none, query: BETA },

  // Skills (§2.1 beta, §2.2 GA).
  { method: 'POST', template: '/v1/skills', operation: 'skills:write', body: 'multipart', mayStream: false, query: BETA },
  { method: 'GET', template: '/v1/skills', operation: 'skills:read', ...none, query: { ...CURSOR_PAGE, source: { type: 'skill_source' } } },
  { method: 'GET', template: '/v1/skills/{skill_id}', operation: 'skills:read', ...none, query: BETA },
  { method: 'DELETE', template: '/v1/skills/{skill_id}', operation: 'skills:delete', ...none, query: BETA },
  { method: 'POST', template: '/v1/skills/{skill_id}/versions', operation: 'skills:write', body: 'multipart', mayStream: false, query: BETA },
  { method: 'GET', template: '/v1/skills/{skill_id}/versions', operation: 'skills:read', ...none, query: CURSOR_PAGE },
  { method: 'GET', template: '/v1/skills/{skill_id}/versions/{version}', operation: 'skills:read', ...none, query: BETA },
  { method: 'DELETE', template: '/v1/skills/{skill_id}/versions/{version}', operation: 'skills:delete', ...none, query: BETA },
  { method: 'GET', template: '/v1/skills/{skill_id}/versions/{version}/content', operation: 'skills:read', ...none, query: BETA },

  // Files (§3.8). Deleting a file needs files:write: there is no files:delete scope.
  { method: 'POST', template: '/v1/files', operation: 'files:write', body: 'multipart', mayStream: false, query: BETA },
  { method: 'GET', template: '/v1/files', operation: 'files:read', ...none, query: FILES_PAGE },
  { method: 'GET', template: '/v1/files/{file_id}', operation: 'files:read', ...none, query: BETA },
  { method: 'GET', template: '/v1/files/{file_id}/content', operation: 'files:read', ...none, query: BETA },
  { method: 'DELETE', template: '/v1/files/{file_id}', operation: 'files:write', ...none, query: BETA },

  // Message Batches (§3.10); `results` is where the rewritten `results_url` points.
  { method: 'POST', template: '/v1/messages/batches', operation: 'batches:write', body: 'json', mayStream: false, query: BETA },
  { method: 'GET', template: '/v1/messages/batches', operation: 'batches:read', ...none, query: ID_PAGE },
  { method: 'GET', template: '/v1/messages/batches/{batch_id}', operation: 'batches:read', ...none, query: BETA },
  { method: 'POST', template: '/v1/messages/batches/{batch_id}/cancel', operation: 'batches:write', ...none, query: BETA },
  { method: 'DELETE', template: '/v1/messages/batches/{batch_id}', operation: 'batches:write', ...none, query: BETA },
  { method: 'GET', template: '/v1/messages/batches/{batch_id}/results', operation: 'batches:read', ...none, query: BETA },
];

/**
 * Surfaces under `/v1/` that exist upstream but that skillgate never proxies: the Admin API, OAuth
 * and federation, legacy completions, and the managed-agents family (which holds secret-returning
 * endpoints such as vault credentials and tunnel tokens). They answer 403 so the SDK raises
 * `PermissionDeniedError` and the audit log names the attempt; unknown paths answer 404.
 * Compared case-insensitively, so `/V1/Organizations` is named for what it tries to reach.
 */
export const DENIED_SURFACES: ReadonlySet<string> = new Set([
  'organizations',
  'oauth',
  'complete',
  'agents',
  'sessions',
  'environments',
  'vaults',
  'memory_stores',
  'deployments',
  'deployment_runs',
  'tunnels',
  'webhooks',
  'user_profiles',
  'dreams',
  'compliance',
]);

/** `anthropic-beta` values that select the beta variant of a proxied surface. */
export const SURFACE_BETAS: ReadonlySet<string> = new Set(['skills-2025-10-02', 'files-api-2025-04-14', 'message-batches-2024-09-24']);
