// Proxy attack family C.1 (reference/security.md), the part decided by classification: absolute-form
// targets (C-05), method overrides (C-12), path traversal and normalisation tricks (C-13), query
// smuggling (C-15), case / trailing-slash / suffix variants (C-16), upgrades (C-33), and the
// surfaces the proxy never forwards (anthropic-api.md §7.9–7.10, §8). Each family is one describe
// block, so over-HTTP versions (stub upstream recording 0 requests) can join the same block.
import { describe, expect, it } from 'vitest';
import { classifyRequest, MAX_TARGET } from '../../broker/proxy/classify.ts';
import { ProxyError } from '../../broker/proxy/proxy-error.ts';

type Headers = Record<string, string | string[]>;

/** The refusal `classifyRequest` throws, as status / type / reason; fails the test if it classifies. */
function refusal(method: string, url: string, headers: Headers = {}) {
  try {
    const classified = classifyRequest(method, url, headers);
    return { classified: classified.route };
  } catch (err) {
    if (err instanceof ProxyError) return { status: err.status, type: err.type, reason: err.reason };
    throw err;
  }
}

const badRequest = (reason: string) => ({ status: 400, type: 'invalid_request_error', reason });
const NOT_CANONICAL = badRequest('path_not_canonical');
const TRAVERSAL = badRequest('path_traversal');
const NOT_PROXIED = { status: 403, type: 'permission_error', reason: 'surface_not_proxied' };
const NO_ROUTE = { status: 404, type: 'not_found_error', reason: 'route_not_found' };
const BAD_ID = { status: 404, type: 'not_found_error', reason: 'path_parameter_invalid' };
const WRONG_METHOD = { status: 405, type: 'invalid_request_error', reason: 'method_not_allowed' };
const QUERY_NOT_ALLOWED = badRequest('query_not_allowed');

describe('C-05 absolute-form and other non-path targets', () => {
  const NOT_ORIGIN_FORM = badRequest('request_target_not_origin_form');

  it.each([
    ['POST', 'http://169.254.169.254/latest/meta-data/'],
    ['POST', 'https://evil.example/v1/messages'],
    ['POST', 'http://api.anthropic.com/v1/messages'],
    ['POST', 'HTTP://evil.example/v1/messages'],
    ['OPTIONS', '*'],
    ['CONNECT', 'api.anthropic.com:443'],
    ['GET', 'v1/models'],
    ['GET', ''],
  ])('%s %s → 400', (method, url) => {
    expect(refusal(method, url)).toEqual(NOT_ORIGIN_FORM);
  });

  it('refuses a scheme-relative target that a URL parser would read as a host', () => {
    expect(refusal('POST', '//evil.example/v1/messages')).toEqual(NOT_CANONICAL);
  });

  it('refuses a target longer than the limit', () => {
    expect(refusal('GET', `/v1/models?limit=1&${'x'.repeat(MAX_TARGET)}`)).toEqual(badRequest('request_target_too_long'));
  });

  it('ignores Host and X-Forwarded-Host: the upstream path carries no origin', () => {
    const headers = { host: 'evil.example', 'x-forwarded-host': 'evil.example', forwarded: 'host=evil.example' };
    expect(classifyRequest('POST', '/v1/messages', headers).upstreamPath).toBe('/v1/messages');
  });
});

describe('C-12 method override', () => {
  const OVERRIDES: Headers = {
    'x-http-method-override': 'DELETE',
    'x-http-method': 'DELETE',
    'x-method-override': 'DELETE',
  };

  it.each([
    ['GET', '/v1/skills/skill_01JAbc', 'skills:read'],
    ['GET', '/v1/files/file_011CNha8', 'files:read'],
    ['POST', '/v1/messages', 'messages:create'],
    ['GET', '/v1/messages/batches/msgbatch_013Zva', 'batches:read'],
  ])('%s %s stays %s whatever the override headers say', (method, url, operation) => {
    expect(classifyRequest(method, url, OVERRIDES).operation).toBe(operation);
  });

  it.each(['/v1/skills/skill_01JAbc?_method=DELETE', '/v1/models?_method=POST', '/v1/files/file_011CNha8?method=DELETE'])(
    'refuses the override as a query parameter: %s',
    (url) => {
      expect(refusal('GET', url)).toEqual(QUERY_NOT_ALLOWED);
    },
  );

  it.each([
    ['HEAD', '/v1/models'],
    ['OPTIONS', '/v1/messages'],
    ['TRACE', '/v1/messages'],
    ['CONNECT', '/v1/messages'],
    ['PUT', '/v1/skills/skill_01JAbc'],
    ['PATCH', '/v1/files/file_011CNha8'],
    ['GET', '/v1/messages'],
    ['DELETE', '/v1/models/claude-opus-4-1'],
    ['POST', '/v1/messages/batches/msgbatch_013Zva/results'],
    ['get', '/v1/models'],
  ])('%s %s → 405', (method, url) => {
    expect(refusal(method, url)).toEqual(WRONG_METHOD);
  });

  it('answers 404, not 405, for a method on a path that does not exist', () => {
    expect(refusal('HEAD', '/')).toEqual(NO_ROUTE);
  });
});

describe('C-13 path traversal and normalisation', () => {
  it.each([
    ['raw ..', '/v1/skills/../organizations/api_keys', TRAVERSAL],
    ['raw .. at the end', '/v1/files/file_011CNha8/content/..', TRAVERSAL],
    ['raw .. climbing out of batches', '/v1/messages/batches/msgbatch_01/../../../organizations/api_keys', TRAVERSAL],
    ['/./', '/v1/./messages', TRAVERSAL],
    ['trailing /.', '/v1/messages/.', TRAVERSAL],
    ['%2e%2e', '/v1/skills/%2e%2e/organizations', NOT_CANONICAL],
    ['%2E%2E', '/v1/skills/%2E%2E/organizations', NOT_CANONICAL],
    ['.%2E', '/v1/skills/.%2E/organizations', NOT_CANONICAL],
    ['..%2F', '/v1/skills/..%2Forganizations', NOT_CANONICAL],
    ['%2F inside an id', '/v1/models/claude%2F..%2F..%2Forganizations', NOT_CANONICAL],
    ['double-encoded %252e%252e', '/v1/skills/%252e%252e/organizations', NOT_CANONICAL],
    ['backslash ..\\', '/v1/skills/..\\organizations', NOT_CANONICAL],
    ['%5c', '/v1/skills/..%5corganizations', NOT_CANONICAL],
    ['%5C', '/v1/skills/%5C..%5Corganizations', NOT_CANONICAL],
    ['// in the middle', '/v1//organizations/api_keys', NOT_CANONICAL],
    ['// after a route', '/v1/skills//skill_01JAbc', NOT_CANONICAL],
    ['leading //', '//v1/messages', NOT_CANONICAL],
    [';-params on a segment', '/v1/skills;x=y', NOT_CANONICAL],
    [';-params on an id', '/v1/skills/skill_01JAbc;jsessionid=1', NOT_CANONICAL],
    ['.. with a ;-param', '/v1/skills/..;/organizations', NOT_CANONICAL],
    ['%00', '/v1/messages%00', NOT_CANONICAL],
    ['raw NUL', '/v1/messages\u0000.json', NOT_CANONICAL],
    ['fullwidth ．．(U+FF0E)', '/v1/skills/\uff0e\uff0e/organizations', NOT_CANONICAL],
    ['fullwidth ．．percent-encoded', '/v1/skills/%EF%BC%8E%EF%BC%8E/organizations', NOT_CANONICAL],
    ['overlong UTF-8 dot', '/v1/skills/%C0%AE%C0%AE/organizations', NOT_CANONICAL],
    ['a tab', '/v1/mess\tages', NOT_CANONICAL],
    ['a percent-encoded letter', '/v1/%6dessages', NOT_CANONICAL],
    ['/V1/Organizations', '/V1/Organizations/api_keys', NOT_PROXIED],
  ])('%s', (_name, url, expected) => {
    expect(refusal('GET', url)).toEqual(expected);
  });

  it.each([
    ['a file id that is not file_…', '/v1/files/skill_01JAbc'],
    ['a batch id that is not msgbatch_…', '/v1/messages/batches/file_01/results'],
    ['a skill id starting with "-"', '/v1/skills/-rf'],
    ['a skill id starting with "."', '/v1/skills/.hidden'],
    ['a dotted skill version', '/v1/skills/skill_01JAbc/versions/1.0'],
    ['an upper-case model id', '/v1/models/Claude-Opus'],
    ['an over-long id', `/v1/skills/${'a'.repeat(129)}`],
  ])('refuses %s as an id that cannot exist', (_name, url) => {
    expect(refusal('GET', url)).toEqual(BAD_ID);
  });
});

describe('C-15 query-string smuggling', () => {
  it.each([
    ['a huge limit', '/v1/models?limit=100000'],
    ['traversal in a cursor', '/v1/models?after_id=../x'],
    ['traversal in an id cursor', '/v1/messages/batches?after_id=..%2F..%2Forganizations'],
    ['a URL in a cursor', '/v1/files?after_id=http://evil.example/'],
    ['a repeated parameter', '/v1/models?limit=1&limit=2'],
    ['a nested parameter', '/v1/models?a[b]=1'],
    ['a nested parameter, encoded', '/v1/models?a%5Bb%5D=1'],
    ['an array of a scalar', '/v1/models?limit[]=1'],
    ['an encoded & smuggling a second parameter', '/v1/skills?beta=true%26_method%3DDELETE'],
    ['a fragment glued to a value', '/v1/models?limit=10#x'],
    ['a CRLF in a value', '/v1/models?limit=10%0d%0aHost:%20evil'],
    ['a NUL in a value', '/v1/skills?source=custom%00'],
    ['an unknown parameter', '/v1/skills?workspace_id=wrkspc_01'],
  ])('refuses %s', (_name, url) => {
    expect(refusal('GET', url)).toEqual(QUERY_NOT_ALLOWED);
  });

  it('sends upstream only the re-encoded allowlisted query, never the raw string', () => {
    expect(classifyRequest('GET', '/v1/files?%69ds[]=file_01a&beta=%74rue', {}).upstreamPath).toBe('/v1/files?ids%5B%5D=file_01a&beta=true');
  });
});

describe('C-16 case, trailing slash and suffix variants', () => {
  it.each([
    ['POST', '/v1/messages/'],
    ['POST', '/V1/messages'],
    ['POST', '/v1/Messages'],
    ['POST', '/v1/MESSAGES'],
    ['POST', '/v1/messages.json'],
    ['POST', '/v1/messages/count_tokens/'],
    ['POST', '/v1/message'],
    ['POST', '/v2/messages'],
    ['POST', '/api/v1/messages'],
    ['POST', '/v1'],
    ['GET', '/'],
    ['GET', '/v1/models/'],
    ['GET', '/v1/skills/skill_01JAbc/'],
    ['GET', '/v1/skills/skill_01JAbc/versions/latest/content/'],
    ['GET', '/v1/files/file_011CNha8/content.zip'],
    ['GET', '/v1/Skills'],
  ])('%s %s → 404', (method, url) => {
    expect(refusal(method, url)).toEqual(NO_ROUTE);
  });
});

describe('surfaces the proxy never forwards', () => {
  it.each([
    ['GET', '/v1/organizations'],
    ['GET', '/v1/organizations/me'],
    ['GET', '/v1/organizations/api_keys?status=active'],
    ['POST', '/v1/organizations/api_keys/apikey_01'],
    ['GET', '/v1/organizations/usage_report/messages?starting_at=2025-01-01T00:00:00Z'],
    ['GET', '/v1/organizations/cost_report'],
    ['DELETE', '/v1/organizations/users/user_01'],
    ['GET', '/V1/ORGANIZATIONS/api_keys'],
    ['GET', '/v1/Organizations'],
    ['POST', '/v1/oauth/token'],
    ['POST', '/v1/complete'],
    ['GET', '/v1/agents'],
    ['POST', '/v1/agents/agent_01/versions'],
    ['POST', '/v1/sessions'],
    ['GET', '/v1/sessions/sesn_01/events?beta=true'],
    ['GET', '/v1/vaults/vlt_01/credentials'],
    ['GET', '/v1/environments'],
    ['POST', '/v1/memory_stores'],
    ['POST', '/v1/tunnels/tnl_01/reveal_token'],
    ['GET', '/v1/deployments'],
    ['GET', '/v1/user_profiles'],
    ['GET', '/v1/webhooks'],
  ])('%s %s → 403 surface_not_proxied', (method, url) => {
    expect(refusal(method, url)).toEqual(NOT_PROXIED);
  });

  it('tells the caller what the proxy does forward', () => {
    expect(() => classifyRequest('GET', '/V1/Organizations/api_keys', {})).toThrow(
      'skillgate does not proxy /v1/organizations: it forwards only the Messages, Models, Skills, Files and Message Batches APIs.',
    );
  });
});

describe('C-33 upgrade', () => {
  it.each(['websocket', 'h2c'])('refuses Upgrade: %s', (protocol) => {
    expect(refusal('GET', '/v1/models', { connection: 'Upgrade', upgrade: protocol })).toEqual(badRequest('upgrade_not_supported'));
  });
});
