// Proxy attack family C.1 (reference/security.md), the part decided by authorize + guard: betas as
// scope escalation (C-11), batches around per-request guardrails (C-17), prototype poisoning
// (C-24), escapes and number tricks (C-26), guardrails bypassed through other fields (C-27) and
// `stream` type confusion (C-28). Every row runs the real classifier, body parser and guard; an
// allowed row also checks that the forwarded body is the object that was checked.
import { describe, expect, it } from 'vitest';
import type { GrantConfig, Scope } from '../../broker/config/schema.ts';
import { compileGrant } from '../../broker/policy/grant.ts';
import { classifyRequest } from '../../broker/proxy/classify.ts';
import { guardRequest, parseJsonBody } from '../../broker/proxy/guard.ts';
import { ProxyError } from '../../broker/proxy/proxy-error.ts';

/** A grant in config form. Scopes are typed by hand: GrantConfig infers them as never[] from the schema's mapped union. */
type GrantInput = Partial<Omit<GrantConfig, 'scopes'>> & { scopes?: Scope[] };
const grantOf = (input: GrantInput = {}) => compileGrant({ scopes: ['messages:create'], ttl: '10m', ...input } as GrantConfig, 'grant', []);

interface Attack {
  route?: string;
  /** An object is serialised; a string or Buffer is sent as is. */
  body?: unknown;
  betas?: string[];
  grant?: GrantInput;
}

type Outcome = { allowed: true; stream: boolean } | { status: number; type: string; reason: string };

/** What the proxy decides for one request, before anything would go upstream. */
function outcome(attack: Attack): Outcome {
  const [method, path] = (attack.route ?? 'POST /v1/messages').split(' ') as [string, string];
  try {
    const classified = classifyRequest(method, path, {});
    const grant = grantOf(attack.grant);
    const raw = attack.body === undefined ? undefined : Buffer.isBuffer(attack.body) ? attack.body : Buffer.from(typeof attack.body === 'string' ? attack.body : JSON.stringify(attack.body));
    const body = raw === undefined ? undefined : parseJsonBody(raw, 4 * 1024 * 1024);
    const result = guardRequest({ classified, betas: attack.betas ?? [], body, grant, policyName: 'ci' });
    if (body !== undefined) expect(JSON.parse(result.forwardBody!.toString('utf8'))).toEqual(body);
    return { allowed: true, stream: result.stream };
  } catch (err) {
    if (err instanceof ProxyError) return { status: err.status, type: err.type, reason: err.reason };
    throw err;
  }
}

const ALLOWED: Outcome = { allowed: true, stream: false };
const forbidden = (reason: string) => ({ status: 403, type: 'permission_error', reason });
const badRequest = (reason: string) => ({ status: 400, type: 'invalid_request_error', reason });

const msg = (extra: Record<string, unknown> = {}) => ({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }], ...extra });
const codeExec = { type: 'code_execution_20250825', name: 'code_execution' };

describe('C-11 anthropic-beta as scope escalation', () => {
  const BETA_REFUSED = forbidden('beta_not_allowed');
  it.each<[string, Attack, Outcome]>([
    ['code execution without tools.code_execution', { body: msg(), betas: ['code-execution-2025-08-25'] }, BETA_REFUSED],
    ['an older code-execution date', { body: msg(), betas: ['code-execution-2025-05-22'] }, BETA_REFUSED],
    ['a future code-execution date', { body: msg(), betas: ['code-execution-2099-01-01'] }, BETA_REFUSED],
    ['code execution when only client-side bash is allowed', { body: msg(), betas: ['code-execution-2025-08-25'], grant: { tools: { bash: 'allow' } } }, BETA_REFUSED],
    ['computer use', { body: msg(), betas: ['computer-use-2025-01-24'], grant: { tools: { bash: 'allow' } } }, BETA_REFUSED],
    ['MCP connectors', { body: msg(), betas: ['mcp-client-2025-04-04'] }, BETA_REFUSED],
    ['the newer MCP connector beta', { body: msg(), betas: ['mcp-client-2025-11-20'] }, BETA_REFUSED],
    ['skills on a messages-only token', { body: msg(), betas: ['skills-2025-10-02'] }, BETA_REFUSED],
    ['the Files API without a files scope', { body: msg(), betas: ['files-api-2025-04-14'] }, BETA_REFUSED],
    ['batches without a batches scope', { body: msg(), betas: ['message-batches-2024-09-24'] }, BETA_REFUSED],
    ['web fetch', { body: msg(), betas: ['web-fetch-2025-09-10'] }, BETA_REFUSED],
    ['the advisor tool', { body: msg(), betas: ['advisor-tool-2026-03-01'] }, BETA_REFUSED],
    ['managed agents (a surface skillgate does not proxy)', { body: msg(), betas: ['managed-agents-2026-04-01'] }, BETA_REFUSED],
    ['MCP tunnels', { body: msg(), betas: ['mcp-tunnels-2026-06-22'] }, BETA_REFUSED],
    ['inline tools (tool definitions outside tools[])', { body: msg(), betas: ['inline-tools-2026-09-15'] }, BETA_REFUSED],
    ['user profiles', { body: msg(), betas: ['user-profiles-2026-03-24'] }, BETA_REFUSED],
    ['an upper-case spelling', { body: msg(), betas: ['Code-Execution-2025-08-25'] }, BETA_REFUSED],
    ['a beta without a date', { body: msg(), betas: ['code-execution'] }, BETA_REFUSED],
    ['a refused beta after a harmless one', { body: msg(), betas: ['prompt-caching-2024-07-31', 'code-execution-2025-08-25'] }, BETA_REFUSED],
    ['a never-seen beta', { body: msg(), betas: ['totally-new-2026-01-01'] }, BETA_REFUSED],
    ['code execution when the grant allows it', { body: msg(), betas: ['code-execution-2025-08-25'], grant: { tools: { code_execution: 'allow' } } }, ALLOWED],
    ['skills in messages when code execution is allowed', { body: msg(), betas: ['code-execution-2025-08-25', 'skills-2025-10-02'], grant: { tools: { code_execution: 'allow' } } }, ALLOWED],
    ['the Skills API beta with skills:read', { route: 'GET /v1/skills', betas: ['skills-2025-10-02'], grant: { scopes: ['skills:read'] } }, ALLOWED],
    ['the Files API beta with files:read', { route: 'GET /v1/files', betas: ['files-api-2025-04-14'], grant: { scopes: ['files:read'] } }, ALLOWED],
  ])('%s', (_name, attack, expected) => {
    expect(outcome(attack)).toEqual(expected);
  });
});

describe('C-17 batches do not bypass per-request guardrails', () => {
  const BATCH = 'POST /v1/messages/batches';
  const grant: GrantInput = { scopes: ['batches:write'], models: ['claude-sonnet-4-*'], max_tokens: 1024, skills: ['pdf'], tools: { code_execution: 'allow', custom: 'allow' } };
  const batch = (...params: unknown[]) => ({ requests: params.map((p, i) => ({ custom_id: `r${i}`, params: p })) });

  it.each<[string, Attack, Outcome]>([
    ['a model outside the allowlist', { body: batch(msg(), msg({ model: 'claude-opus-4-1' })) }, forbidden('model_not_allowed')],
    ['client-side bash', { body: batch(msg({ tools: [{ type: 'bash_20250124', name: 'bash' }] })) }, forbidden('tool_not_allowed')],
    ['an unlisted skill', { body: batch(msg({ container: { skills: [{ type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] }, tools: [codeExec] })) }, forbidden('skill_not_allowed')],
    ['max_tokens above the cap', { body: batch(msg({ max_tokens: 4096 })) }, forbidden('max_tokens_exceeded')],
    ['an MCP server', { body: batch(msg({ mcp_servers: [{ type: 'url', url: 'https://evil.example/mcp', name: 'x' }] })) }, forbidden('mcp_server_not_allowed')],
    ['an unknown field', { body: batch(msg({ tools_v2: [] })) }, badRequest('unknown_field')],
    ['a refused field', { body: batch(msg({ billing_policy: { bill_to: 'user_profile' } })) }, forbidden('field_not_allowed')],
    ['a prototype key inside params', { body: '{"requests":[{"custom_id":"a","params":{"__proto__":{"model":"claude-opus-4-1"}}}]}' }, badRequest('prototype_key')],
    ['a duplicate model key inside params', { body: '{"requests":[{"custom_id":"a","params":{"model":"claude-sonnet-4-5","model":"claude-opus-4-1","max_tokens":5,"messages":[]}}]}' }, badRequest('duplicate_key')],
    ['params that are not an object', { body: { requests: [{ custom_id: 'a', params: 'claude-opus-4-1' }] } }, badRequest('invalid_field')],
    ['the last of 10 000 items', { body: batch(...Array.from({ length: 9_999 }, () => msg()), msg({ model: 'claude-opus-4-1' })) }, forbidden('model_not_allowed')],
    ['10 000 allowed items', { body: batch(...Array.from({ length: 10_000 }, () => msg())) }, ALLOWED],
  ])('%s', (_name, attack, expected) => {
    expect(outcome({ route: BATCH, grant, ...attack })).toEqual(expected);
  });

  it('names the refused item', () => {
    const classified = classifyRequest('POST', '/v1/messages/batches', {});
    const body = batch(msg(), msg(), msg({ model: 'claude-opus-4-1' }));
    expect(() => guardRequest({ classified, betas: [], body, grant: grantOf(grant), policyName: 'ci' })).toThrow(
      /^requests\[2\]\.params\.model "claude-opus-4-1" is not allowed by policy "ci"/,
    );
  });
});

describe('C-24 prototype poisoning', () => {
  it.each<[string, string, Outcome]>([
    ['__proto__ at the top', '{"__proto__":{"scope":"admin"},"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}', badRequest('prototype_key')],
    ['__proto__ spelt with an escape', '{"\\u005f_proto__":{"scope":"admin"}}', badRequest('prototype_key')],
    ['__proto__ deep in messages', '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"x","__proto__":{"a":1}}]}]}', badRequest('prototype_key')],
    ['constructor.prototype', '{"constructor":{"prototype":{"scope":"admin"}}}', badRequest('prototype_key')],
    ['constructor.prototype inside a tool', '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[],"tools":[{"name":"x","constructor":{"prototype":{}}}]}', badRequest('prototype_key')],
    ['constructor as a plain top-level key', '{"constructor":"x","model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}', badRequest('unknown_field')],
    ['toString as a top-level key', '{"toString":"x","model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}', badRequest('unknown_field')],
  ])('%s', (_name, body, expected) => {
    expect(outcome({ body })).toEqual(expected);
    expect(({} as Record<string, unknown>)['scope']).toBeUndefined();
  });
});

describe('C-26 escapes and number tricks', () => {
  const capped: GrantInput = { models: ['claude-sonnet-4-*'], max_tokens: 1000 };
  const raw = (fields: string) => `{${fields},"messages":[]}`;

  it.each<[string, string | Buffer, Outcome]>([
    ['"\\u006dodel" duplicating model', raw('"model":"claude-sonnet-4-5","\\u006dodel":"claude-opus-4-1","max_tokens":5'), badRequest('duplicate_key')],
    ['"\\u006dodel" as the only model key is read as model', raw('"\\u006dodel":"claude-opus-4-1","max_tokens":5'), forbidden('model_not_allowed')],
    ['an escaped allowed model', raw('"\\u006dodel":"claude-sonnet-4-\\u0035","max_tokens":5'), ALLOWED],
    ['a NUL after an allowed prefix', raw('"model":"claude-sonnet-4-5\\u0000opus","max_tokens":5'), badRequest('invalid_field')],
    ['a lone surrogate', raw('"model":"claude-sonnet-4-5","max_tokens":5,"metadata":{"user_id":"\\ud800"}'), badRequest('lone_surrogate')],
    ['a UTF-8 BOM', `\ufeff${raw('"model":"claude-sonnet-4-5","max_tokens":5')}`, badRequest('invalid_json')],
    ['an overlong UTF-8 "/"', Buffer.concat([Buffer.from('{"model":"claude-sonnet-4-5'), Buffer.from([0xc0, 0xaf]), Buffer.from('","max_tokens":5,"messages":[]}')]), badRequest('invalid_utf8')],
    ['max_tokens 1e400 (Infinity)', raw('"model":"claude-sonnet-4-5","max_tokens":1e400'), badRequest('invalid_field')],
    ['max_tokens -0', raw('"model":"claude-sonnet-4-5","max_tokens":-0'), badRequest('invalid_field')],
    ['max_tokens 2^53+1', raw('"model":"claude-sonnet-4-5","max_tokens":9007199254740993'), badRequest('invalid_field')],
    ['max_tokens 0.5e1 is 5', raw('"model":"claude-sonnet-4-5","max_tokens":0.5e1'), ALLOWED],
    ['max_tokens 1.0e2 is 100', raw('"model":"claude-sonnet-4-5","max_tokens":1.0e2'), ALLOWED],
    ['max_tokens 1e3 equals the 1000 cap', raw('"model":"claude-sonnet-4-5","max_tokens":1e3'), ALLOWED],
    ['max_tokens 1.001e3 over the cap', raw('"model":"claude-sonnet-4-5","max_tokens":1.001e3'), forbidden('max_tokens_exceeded')],
    ['max_tokens 100.5', raw('"model":"claude-sonnet-4-5","max_tokens":100.5'), badRequest('invalid_field')],
  ])('%s', (_name, body, expected) => {
    expect(outcome({ body, grant: capped })).toEqual(expected);
  });

  it('forwards the normalised value the guard checked, not the caller spelling', () => {
    const classified = classifyRequest('POST', '/v1/messages', {});
    const body = parseJsonBody(Buffer.from(raw('"\\u006dodel":"claude-sonnet-4-5","max_tokens":1.0e2')), 1024);
    const { forwardBody } = guardRequest({ classified, betas: [], body, grant: grantOf(capped), policyName: 'ci' });
    expect(forwardBody?.toString('utf8')).toBe('{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[]}');
  });
});

describe('C-27 guardrail bypass through other fields', () => {
  const grant: GrantInput = { models: ['claude-sonnet-4-5-2*'] };
  const dated = (extra: Record<string, unknown> = {}) => msg({ model: 'claude-sonnet-4-5-20250929', ...extra });

  it.each<[string, Attack, Outcome]>([
    ['an alias the dated-only glob does not cover', { body: msg({ model: 'claude-sonnet-4-5' }) }, forbidden('model_not_allowed')],
    ['a -latest alias', { body: msg({ model: 'claude-sonnet-4-5-latest' }) }, forbidden('model_not_allowed')],
    ['a fallback model', { body: dated({ fallbacks: [{ model: 'claude-opus-4-1' }] }) }, forbidden('model_not_allowed')],
    ['server-chosen fallbacks', { body: dated({ fallbacks: 'default' }) }, forbidden('model_not_allowed')],
    ['hosted code execution', { body: dated({ tools: [codeExec] }) }, forbidden('tool_not_allowed')],
    ['a server type under a harmless name', { body: dated({ tools: [{ type: 'code_execution_20250825', name: 'get_weather' }] }) }, forbidden('tool_not_allowed')],
    ['web fetch', { body: dated({ tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] }) }, forbidden('tool_not_allowed')],
    ['web search', { body: dated({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }) }, forbidden('tool_not_allowed')],
    ['a code-execution sub-tool type', { body: dated({ tools: [{ type: 'bash_code_execution_20250825', name: 'bash_code_execution' }] }) }, forbidden('unknown_tool_type')],
    ['programmatic calling from the container', { body: dated({ tools: [{ name: 'x', input_schema: { type: 'object' }, allowed_callers: ['code_execution_20250825'] }] }) }, forbidden('code_execution_required')],
    ['mcp_servers', { body: dated({ mcp_servers: [{ type: 'url', url: 'https://evil.example/mcp', name: 'x' }] }) }, forbidden('mcp_server_not_allowed')],
    ['a container id from another job', { body: dated({ container: 'container_011CRJ' }) }, forbidden('code_execution_required')],
    ['container skills', { body: dated({ container: { skills: [{ type: 'anthropic', skill_id: 'xlsx' }] } }) }, forbidden('skill_not_allowed')],
    ['system as a non-text block array', { body: dated({ system: [{ type: 'document', source: { type: 'file', file_id: 'file_1' } }] }) }, badRequest('invalid_field')],
    ['system as an object', { body: dated({ system: { type: 'text', text: 'x' } }) }, badRequest('invalid_field')],
    ['a file_id reference', { body: dated({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] }) }, forbidden('file_reference_not_allowed')],
    ['a file_id inside a document content source', { body: dated({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'content', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] } }] }] }) }, forbidden('file_reference_not_allowed')],
    ['metadata that is not an object', { body: dated({ metadata: ['x'] }) }, badRequest('invalid_field')],
    ['betas smuggled as a body field', { body: dated({ betas: ['code-execution-2025-08-25'] }) }, badRequest('unknown_field')],
    ['a field the guard does not know', { body: dated({ tools_v2: [{ type: 'bash_20250124' }] }) }, badRequest('unknown_field')],
    ['a server-held thread', { body: dated({ thread: { type: 'continue', previous_message_id: 'msg_1' } }) }, forbidden('field_not_allowed')],
    ['system as text blocks', { body: dated({ system: [{ type: 'text', text: 'be brief' }] }) }, ALLOWED],
    ['metadata.user_id', { body: dated({ metadata: { user_id: 'ci' } }) }, ALLOWED],
  ])('%s', (_name, attack, expected) => {
    expect(outcome({ grant, ...attack })).toEqual(expected);
  });
});

describe('C-28 stream type confusion', () => {
  it.each<[string, Attack, Outcome]>([
    ['"stream": "true"', { body: msg({ stream: 'true' }) }, badRequest('invalid_field')],
    ['"stream": 1', { body: msg({ stream: 1 }) }, badRequest('invalid_field')],
    ['"stream": null', { body: msg({ stream: null }) }, badRequest('invalid_field')],
    ['a duplicate stream', { body: '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[],"stream":false,"stream":true}' }, badRequest('duplicate_key')],
    ['"stream": "true" in a batch item', { route: 'POST /v1/messages/batches', grant: { scopes: ['batches:write'] }, body: { requests: [{ custom_id: 'a', params: msg({ stream: 'true' }) }] } }, badRequest('invalid_field')],
    ['stream on count_tokens', { route: 'POST /v1/messages/count_tokens', body: { model: 'claude-sonnet-4-5', messages: [], stream: true } }, badRequest('unknown_field')],
    ['"stream": true', { body: msg({ stream: true }) }, { allowed: true, stream: true }],
    ['no stream field', { body: msg() }, ALLOWED],
  ])('%s', (_name, attack, expected) => {
    expect(outcome(attack)).toEqual(expected);
  });
});
