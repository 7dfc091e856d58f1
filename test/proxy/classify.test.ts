// The classify stage against the proxied surface: every route of reference/anthropic-api.md
// §2, §3.1, §3.6–3.8 and §3.10, as the GA and the beta SDKs send it, and the per-route query
// allowlist. Refusals of the path itself (traversal, absolute-form, denied surfaces) live in
// test/security/request-path.test.ts.
import { describe, expect, it } from 'vitest';
import { classifyRequest } from '../../broker/proxy/classify.ts';
import type { ClassifiedRequest } from '../../broker/proxy/operation.ts';
import { ProxyError } from '../../broker/proxy/proxy-error.ts';
import { ROUTES } from '../../broker/proxy/routes.ts';

// Id shapes as the API hands them out (§2.1, §3.7, §3.8, §3.10).
const SKILL = 'skill_01JAbcdefghijklmnopqrstuvw';
const VERSION = '1759178010641129';
const FILE = 'file_011CNha8iCJcU1wXNR6q4V8w';
const BATCH = 'msgbatch_013Zva2CMHLNnXjNJJKqJ2EF';
const MODEL = 'claude-sonnet-4-5-20250929';

type Row = Omit<ClassifiedRequest, 'upstreamPath' | 'beta'> & { method: string; path: string };
const row = (method: string, path: string, fields: Omit<Row, 'method' | 'path' | 'params'> & { params?: Row['params'] }): Row => ({
  method,
  path,
  params: {},
  ...fields,
});
const none = { body: 'none', mayStream: false } as const;

/** The whole surface, one row per route; the beta SDK sends the same paths with `?beta=true`. */
const SURFACE: Row[] = [
  row('POST', '/v1/messages', { operation: 'messages:create', route: 'POST /v1/messages', body: 'json', mayStream: true }),
  row('POST', '/v1/messages/count_tokens', { operation: 'messages:create', route: 'POST /v1/messages/count_tokens', body: 'json', mayStream: false }),
  row('GET', '/v1/models', { operation: 'models:read', route: 'GET /v1/models', ...none }),
  row('GET', `/v1/models/${MODEL}`, { operation: 'models:read', route: 'GET /v1/models/{model_id}', params: { model_id: MODEL }, ...none }),

  row('POST', '/v1/skills', { operation: 'skills:write', route: 'POST /v1/skills', body: 'multipart', mayStream: false }),
  row('GET', '/v1/skills', { operation: 'skills:read', route: 'GET /v1/skills', ...none }),
  row('GET', `/v1/skills/${SKILL}`, { operation: 'skills:read', route: 'GET /v1/skills/{skill_id}', params: { skill_id: SKILL }, ...none }),
  row('DELETE', `/v1/skills/${SKILL}`, { operation: 'skills:delete', route: 'DELETE /v1/skills/{skill_id}', params: { skill_id: SKILL }, ...none }),
  row('POST', `/v1/skills/${SKILL}/versions`, {
    operation: 'skills:write',
    route: 'POST /v1/skills/{skill_id}/versions',
    params: { skill_id: SKILL },
    body: 'multipart',
    mayStream: false,
  }),
  row('GET', `/v1/skills/${SKILL}/versions`, { operation: 'skills:read', route: 'GET /v1/skills/{skill_id}/versions', params: { skill_id: SKILL }, ...none }),
  row('GET', `/v1/skills/${SKILL}/versions/${VERSION}`, {
    operation: 'skills:read',
    route: 'GET /v1/skills/{skill_id}/versions/{version}',
    params: { skill_id: SKILL, version: VERSION },
    ...none,
  }),
  row('DELETE', `/v1/skills/${SKILL}/versions/${VERSION}`, {
    operation: 'skills:delete',
    route: 'DELETE /v1/skills/{skill_id}/versions/{version}',
    params: { skill_id: SKILL, version: VERSION },
    ...none,
  }),
  row('GET', `/v1/skills/${SKILL}/versions/${VERSION}/content`, {
    operation: 'skills:read',
    route: 'GET /v1/skills/{skill_id}/versions/{version}/content',
    params: { skill_id: SKILL, version: VERSION },
    ...none,
  }),

  row('POST', '/v1/files', { operation: 'files:write', route: 'POST /v1/files', body: 'multipart', mayStream: false }),
  row('GET', '/v1/files', { operation: 'files:read', route: 'GET /v1/files', ...none }),
  row('GET', `/v1/files/${FILE}`, { operation: 'files:read', route: 'GET /v1/files/{file_id}', params: { file_id: FILE }, ...none }),
  row('GET', `/v1/files/${FILE}/content`, { operation: 'files:read', route: 'GET /v1/files/{file_id}/content', params: { file_id: FILE }, ...none }),
  row('DELETE', `/v1/files/${FILE}`, { operation: 'files:write', route: 'DELETE /v1/files/{file_id}', params: { file_id: FILE }, ...none }),

  row('POST', '/v1/messages/batches', { operation: 'batches:write', route: 'POST /v1/messages/batches', body: 'json', mayStream: false }),
  row('GET', '/v1/messages/batches', { operation: 'batches:read', route: 'GET /v1/messages/batches', ...none }),
  row('GET', `/v1/messages/batches/${BATCH}`, {
    operation: 'batches:read',
    route: 'GET /v1/messages/batches/{batch_id}',
    params: { batch_id: BATCH },
    ...none,
  }),
  row('POST', `/v1/messages/batches/${BATCH}/cancel`, {
    operation: 'batches:write',
    route: 'POST /v1/messages/batches/{batch_id}/cancel',
    params: { batch_id: BATCH },
    ...none,
  }),
  row('DELETE', `/v1/messages/batches/${BATCH}`, {
    operation: 'batches:write',
    route: 'DELETE /v1/messages/batches/{batch_id}',
    params: { batch_id: BATCH },
    ...none,
  }),
  row('GET', `/v1/messages/batches/${BATCH}/results`, {
    operation: 'batches:read',
    route: 'GET /v1/messages/batches/{batch_id}/results',
    params: { batch_id: BATCH },
    ...none,
  }),
];

/** The beta value the pre-GA SDK adds to each family (§2.1, §3.8, §3.10; messages: §3.6). */
function sdkBeta(path: string): string {
  if (path.startsWith('/v1/skills')) return 'skills-2025-10-02';
  if (path.startsWith('/v1/files')) return 'files-api-2025-04-14';
  if (path.startsWith('/v1/messages/batches')) return 'message-batches-2024-09-24';
  return 'token-counting-2024-11-01';
}

function refusal(method: string, url: string, headers: Record<string, string | string[]> = {}) {
  try {
    classifyRequest(method, url, headers);
  } catch (err) {
    if (err instanceof ProxyError) return { status: err.status, type: err.type, reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error(`${method} ${url} was classified`);
}

describe('the proxied surface', () => {
  it('has a row here for every route in the table, and no other', () => {
    const tested = SURFACE.map((r) => r.route).sort();
    const routed = ROUTES.map((r) => `${r.method} ${r.template}`).sort();
    expect(tested).toEqual(routed);
  });

  it.each(SURFACE)('GA: $method $path → $operation', ({ method, path, ...expected }) => {
    expect(classifyRequest(method, path, {})).toEqual({ ...expected, upstreamPath: path, beta: false });
  });

  it.each(SURFACE)('beta: $method $path?beta=true → $operation', ({ method, path, ...expected }) => {
    const headers = { 'anthropic-beta': sdkBeta(path) };
    expect(classifyRequest(method, `${path}?beta=true`, headers)).toEqual({ ...expected, upstreamPath: `${path}?beta=true`, beta: true });
  });

  // Claude Code sends ?beta=true on inference with a long list of its own betas (§1.6).
  it('accepts Claude Code inference as a possibly streaming messages call', () => {
    const classified = classifyRequest('POST', '/v1/messages?beta=true', {
      'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
    });
    expect(classified).toMatchObject({ operation: 'messages:create', mayStream: true, beta: true, upstreamPath: '/v1/messages?beta=true' });
  });
});

describe('ids as the API hands them out', () => {
  it.each([
    ['Anthropic skill and date version', `/v1/skills/pptx/versions/20251013`, { skill_id: 'pptx', version: '20251013' }],
    ['latest version', `/v1/skills/${SKILL}/versions/latest`, { skill_id: SKILL, version: 'latest' }],
    ['GA version id', `/v1/skills/${SKILL}/versions/skillver_01JAbcdefghijklmnopqrstuvw`, { skill_id: SKILL, version: 'skillver_01JAbcdefghijklmnopqrstuvw' }],
    ['short model alias', '/v1/models/claude-opus-4-1', { model_id: 'claude-opus-4-1' }],
    ['dated model with a dot', '/v1/models/claude-3.5-sonnet-20240620', { model_id: 'claude-3.5-sonnet-20240620' }],
    ['model with snapshot suffix', '/v1/models/claude-sonnet-4-5@20250929', { model_id: 'claude-sonnet-4-5@20250929' }],
  ])('%s', (_name, path, params) => {
    const classified = classifyRequest('GET', path, {});
    expect(classified.params).toEqual(params);
    expect(classified.upstreamPath).toBe(path);
  });
});

describe('beta detection', () => {
  const get = (url: string, headers: Record<string, string | string[]>) => classifyRequest('GET', url, headers).beta;

  it.each([
    ['the query flag alone', '/v1/skills?beta=true', {}, true],
    ['the header alone (SDK 1.x beta sends no query flag)', '/v1/skills', { 'anthropic-beta': 'skills-2025-10-02' }, true],
    ['the files beta', '/v1/files', { 'anthropic-beta': 'files-api-2025-04-14' }, true],
    ['the batches beta', '/v1/messages/batches', { 'anthropic-beta': 'message-batches-2024-09-24' }, true],
    ['one value of a comma list, with spaces', '/v1/skills', { 'anthropic-beta': 'code-execution-2025-08-25, skills-2025-10-02' }, true],
    ['a repeated header', '/v1/skills', { 'anthropic-beta': ['code-execution-2025-08-25', 'skills-2025-10-02'] }, true],
    ['no flag and no header', '/v1/skills', {}, false],
    ['only unrelated betas', '/v1/skills', { 'anthropic-beta': 'code-execution-2025-08-25,oauth-2025-04-20' }, false],
    ['a value that only contains a surface beta', '/v1/skills', { 'anthropic-beta': 'skills-2025-10-02-x' }, false],
  ])('%s', (_name, url, headers, beta) => {
    expect(get(url, headers)).toBe(beta);
  });

  it('does not invent ?beta=true upstream when only the header says beta', () => {
    expect(classifyRequest('GET', '/v1/skills', { 'anthropic-beta': 'skills-2025-10-02' }).upstreamPath).toBe('/v1/skills');
  });
});

describe('query parameters', () => {
  it.each([
    ['Claude Code model discovery', '/v1/models?limit=1000', '/v1/models?limit=1000'],
    ['models paged by model id', `/v1/models?limit=20&after_id=${MODEL}`, `/v1/models?limit=20&after_id=${MODEL}`],
    ['models paged backwards', '/v1/models?before_id=claude-opus-4-1', '/v1/models?before_id=claude-opus-4-1'],
    [
      'skills by cursor and source',
      '/v1/skills?beta=true&limit=20&page=page_MjAyNS0wNS0xNFQwMDowMDowMFo%3D&source=anthropic',
      '/v1/skills?beta=true&limit=20&page=page_MjAyNS0wNS0xNFQwMDowMDowMFo%3D&source=anthropic',
    ],
    ['skill versions by cursor', `/v1/skills/${SKILL}/versions?limit=5&page=abc_DEF-1`, `/v1/skills/${SKILL}/versions?limit=5&page=abc_DEF-1`],
    ['beta files paged by id', `/v1/files?beta=true&limit=10&after_id=${FILE}`, `/v1/files?beta=true&limit=10&after_id=${FILE}`],
    ['GA files by cursor', '/v1/files?limit=10&page=cGFnZQ', '/v1/files?limit=10&page=cGFnZQ'],
    ['GA files by ids[] as the SDK encodes it', '/v1/files?ids%5B%5D=file_01a&ids%5B%5D=file_01b', '/v1/files?ids%5B%5D=file_01a&ids%5B%5D=file_01b'],
    ['GA files by ids[] written by hand', '/v1/files?ids[]=file_01a&ids[]=file_01b', '/v1/files?ids%5B%5D=file_01a&ids%5B%5D=file_01b'],
    ['files of one session (SDK 1.x scope_id)', '/v1/files?scope_id=sesn_011CZ', '/v1/files?scope_id=sesn_011CZ'],
    ['batches paged by id', `/v1/messages/batches?limit=100&before_id=${BATCH}`, `/v1/messages/batches?limit=100&before_id=${BATCH}`],
    ['an empty query', '/v1/models?', '/v1/models'],
    ['empty pairs', '/v1/models?&limit=3&', '/v1/models?limit=3'],
    ['a percent-encoded value, re-encoded canonically', '/v1/models?limit=%31%30', '/v1/models?limit=10'],
    ['the beta flag encoded', '/v1/messages?beta=%74rue', '/v1/messages?beta=true'],
  ])('%s', (_name, url, upstreamPath) => {
    const method = url.startsWith('/v1/messages?') ? 'POST' : 'GET';
    expect(classifyRequest(method, url, {}).upstreamPath).toBe(upstreamPath);
  });

  it('accepts up to 100 ids[] and refuses the 101st', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `ids%5B%5D=file_01${i}`).join('&');
    expect(classifyRequest('GET', `/v1/files?${ids(100)}`, {}).upstreamPath).toBe(`/v1/files?${ids(100)}`);
    expect(refusal('GET', `/v1/files?${ids(101)}`).reason).toBe('query_not_allowed');
  });

  const QUERY_NOT_ALLOWED = { status: 400, type: 'invalid_request_error', reason: 'query_not_allowed' };
  it.each([
    ['limit 0', 'GET', '/v1/models?limit=0'],
    ['limit above 1000', 'GET', '/v1/models?limit=1001'],
    ['limit far above', 'GET', '/v1/models?limit=100000'],
    ['negative limit', 'GET', '/v1/models?limit=-1'],
    ['fractional limit', 'GET', '/v1/models?limit=1.5'],
    ['exponent limit', 'GET', '/v1/models?limit=1e3'],
    ['zero-padded limit', 'GET', '/v1/models?limit=010'],
    ['limit with a space', 'GET', '/v1/models?limit=+10'],
    ['empty limit', 'GET', '/v1/models?limit='],
    ['limit twice', 'GET', '/v1/models?limit=10&limit=20'],
    ['beta=false', 'GET', '/v1/skills?beta=false'],
    ['beta=1', 'GET', '/v1/skills?beta=1'],
    ['beta without a value', 'GET', '/v1/skills?beta'],
    ['beta twice', 'GET', '/v1/skills?beta=true&beta=true'],
    ['an unknown source', 'GET', '/v1/skills?source=all'],
    ['a model cursor that is no model id', 'GET', '/v1/models?after_id=Claude%20Opus'],
    ['a page token with a space', 'GET', '/v1/skills?page=a%20b'],
    ['an oversized page token', 'GET', `/v1/skills?page=${'a'.repeat(513)}`],
    ['an unknown parameter', 'GET', '/v1/models?foo=1'],
    ['a parameter of another route', 'GET', '/v1/skills?after_id=skill_01'],
    ['ids[] outside the files list', 'GET', '/v1/skills?ids%5B%5D=skill_01'],
    ['ids without brackets', 'GET', '/v1/files?ids=file_01'],
    ['a nested parameter', 'GET', '/v1/files?ids%5Ba%5D=file_01'],
    ['a prototype key', 'GET', '/v1/models?__proto__=1'],
    ['a constructor key', 'GET', '/v1/models?constructor=x'],
    ['limit on messages', 'POST', '/v1/messages?limit=10'],
    ['any query on cancel but beta', 'POST', `/v1/messages/batches/${BATCH}/cancel?force=true`],
  ])('refuses %s', (_name, method, url) => {
    expect(refusal(method, url)).toMatchObject(QUERY_NOT_ALLOWED);
  });

  it('names the parameter and what the route allows', () => {
    expect(refusal('GET', '/v1/models?foo=1').message).toBe('GET /v1/models takes no query parameter "foo"; allowed: beta, limit, after_id, before_id.');
    expect(refusal('GET', '/v1/models?limit=5000').message).toBe('Query parameter limit must be an integer from 1 to 1000.');
  });
});

describe('upstream path', () => {
  it.each(SURFACE)('is rebuilt from the template for $route', ({ method, path }) => {
    const { upstreamPath } = classifyRequest(method, `${path}?beta=true`, {});
    // Always a path under /v1/ with no authority, so origin + upstreamPath stays on the origin.
    expect(upstreamPath).toMatch(/^\/v1\/[A-Za-z0-9._@/-]+\?beta=true$/);
    expect(upstreamPath).not.toMatch(/\/\/|\/\.\.?(\/|\?|$)/);
  });
});
