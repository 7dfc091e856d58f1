// guard: every rule of the request guard, as tables. Allowed cases also check that the body
// forwarded is the very object that was checked; refused cases pin status, type and reason.
import { describe, expect, it } from 'vitest';
import type { GrantConfig, Scope } from '../../broker/config/schema.ts';
import { compileGrant } from '../../broker/policy/grant.ts';
import { classifyRequest } from '../../broker/proxy/classify.ts';
import { guardRequest, parseJsonBody, type GuardResult } from '../../broker/proxy/guard.ts';
import { matchGlob } from '../../broker/proxy/guard/models.ts';
import { classifyToolType } from '../../broker/proxy/guard/tools.ts';
import type { UploadPart } from '../../broker/proxy/guard/uploads.ts';
import { ProxyError } from '../../broker/proxy/proxy-error.ts';

const POLICY = 'docs-bot';

/** A grant in config form. Scopes are typed by hand: GrantConfig infers them as never[] from the schema's mapped union. */
type GrantInput = Partial<Omit<GrantConfig, 'scopes'>> & { scopes?: Scope[] };
const LIMIT = 1024 * 1024;

interface Req {
  route?: `${'GET' | 'POST' | 'DELETE'} /${string}`;
  /** An object is serialised; a string is sent as the raw body text. */
  body?: unknown;
  betas?: string[];
  uploads?: UploadPart[];
  grant?: GrantInput;
}

/** Runs a request through the real classifier, body parser and guard, as the pipeline does. */
function guard(req: Req): { result: GuardResult; checked: Record<string, unknown> | undefined } {
  const [method, path] = (req.route ?? 'POST /v1/messages').split(' ') as [string, string];
  const classified = classifyRequest(method, path, {});
  const problems: string[] = [];
  const grant = compileGrant({ scopes: ['messages:create'], ttl: '10m', ...req.grant } as GrantConfig, 'grant', problems);
  expect(problems).toEqual([]);
  const text = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const checked = text === undefined ? undefined : parseJsonBody(Buffer.from(text), LIMIT);
  const result = guardRequest({ classified, betas: req.betas ?? [], body: checked, uploads: req.uploads, grant, policyName: POLICY });
  return { result, checked };
}

function refusal(run: () => unknown): ProxyError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyError);
    return err as ProxyError;
  }
  throw new Error('expected a refusal');
}

const msg = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5-20250929',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const skill = (skill_id: string, version?: string, type = 'custom') => ({ type, skill_id, ...(version !== undefined && { version }) });
const codeExec = { type: 'code_execution_20250825', name: 'code_execution' };
const withSkills = (...skills: unknown[]) => msg({ container: { skills }, tools: [codeExec] });
const SKILLS_GRANT: GrantInput = { tools: { code_execution: 'allow' }, skills: ['pdf', 'skill_01Pinned@1759178010641129', 'skill_01Pinned@1759178010649999', 'skill_01Any'] };

const ALLOWED: (Req & { name: string; stream?: boolean })[] = [
  { name: 'a minimal message under an open grant', body: msg() },
  { name: 'stream: true is reported to the pipeline', body: msg({ stream: true }), stream: true },
  { name: 'stream: false', body: msg({ stream: false }) },
  { name: 'a dated model matching a glob', body: msg(), grant: { models: ['claude-sonnet-4-*'] } },
  { name: 'a model alias matching a glob', body: msg({ model: 'claude-sonnet-4-5' }), grant: { models: ['claude-sonnet-4-5*'] } },
  { name: 'a model named exactly', body: msg({ model: 'claude-haiku-4-5' }), grant: { models: ['claude-opus-*', 'claude-haiku-4-5'] } },
  { name: 'max_tokens equal to the cap', body: msg({ max_tokens: 8192 }), grant: { max_tokens: 8192 } },
  { name: 'max_tokens written 1.0e2 (the value is 100)', body: '{"model":"claude-sonnet-4-5","max_tokens":1.0e2,"messages":[]}', grant: { max_tokens: 100 } },
  { name: 'a custom tool when grant.tools is unset', body: msg({ tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] }) },
  { name: 'a custom tool with type "custom"', body: msg({ tools: [{ type: 'custom', name: 'x', input_schema: { type: 'object' } }] }), grant: { tools: { custom: 'allow' } } },
  { name: 'hosted code execution when allowed', body: msg({ tools: [codeExec] }), grant: { tools: { code_execution: 'allow' } } },
  { name: 'client-side bash when allowed', body: msg({ tools: [{ type: 'bash_20250124', name: 'bash' }] }), grant: { tools: { bash: 'allow' } } },
  {
    name: 'text editor, memory, web search and web fetch when each is allowed',
    body: msg({ tools: [{ type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' }, { type: 'memory_20250818', name: 'memory' }, { type: 'web_search_20250305', name: 'web_search' }, { type: 'web_fetch_20250910', name: 'web_fetch' }] }),
    grant: { tools: { text_editor: 'allow', memory: 'allow', web_search: 'allow', web_fetch: 'allow' } },
  },
  { name: 'allowed_callers ["direct"] without code execution', body: msg({ tools: [{ name: 'x', input_schema: { type: 'object' }, allowed_callers: ['direct'] }] }) },
  {
    name: 'programmatic tool calling when code execution is allowed',
    body: msg({ tools: [codeExec, { name: 'x', input_schema: { type: 'object' }, allowed_callers: ['code_execution_20250825'] }] }),
    grant: { tools: { code_execution: 'allow', custom: 'allow' } },
  },
  {
    name: 'a listed MCP server with its toolset',
    body: msg({ mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'docs', authorization_token: 't' }], tools: [{ type: 'mcp_toolset', mcp_server_name: 'docs' }] }),
    grant: { tools: { mcp: 'allow' }, mcp_servers: ['https://mcp.example.com/sse'] },
    betas: ['mcp-client-2025-11-20'],
  },
  { name: 'an anthropic skill at latest (listed without a pin)', body: withSkills(skill('pdf', 'latest', 'anthropic')), grant: SKILLS_GRANT, betas: ['code-execution-2025-08-25', 'skills-2025-10-02'] },
  { name: 'an anthropic skill without a version (listed without a pin)', body: withSkills(skill('pdf', undefined, 'anthropic')), grant: SKILLS_GRANT },
  { name: 'a custom skill at one of its pinned versions', body: withSkills(skill('skill_01Pinned', '1759178010649999')), grant: SKILLS_GRANT },
  { name: 'eight skills (the limit)', body: withSkills(...Array.from({ length: 8 }, () => skill('skill_01Any'))), grant: SKILLS_GRANT },
  { name: 'a container id to reuse when code execution is allowed', body: msg({ container: 'container_011CRJ', tools: [codeExec] }), grant: SKILLS_GRANT },
  { name: 'container: null', body: msg({ container: null }) },
  { name: 'system as a string', body: msg({ system: 'be brief' }) },
  { name: 'system as text blocks', body: msg({ system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }] }) },
  {
    name: 'the other documented fields',
    body: msg({ metadata: { user_id: 'u' }, stop_sequences: ['x'], temperature: 0.2, top_k: 5, top_p: 0.9, thinking: { type: 'enabled', budget_tokens: 512 }, tool_choice: { type: 'auto' }, service_tier: 'auto', output_config: { effort: 'low' }, context_management: {}, speed: 'standard', inference_geo: 'us', cache_control: { type: 'ephemeral' } }),
  },
  { name: 'fallback models within the allowlist and cap', body: msg({ fallbacks: [{ model: 'claude-sonnet-4-6', max_tokens: 512 }] }), grant: { models: ['claude-sonnet-4-*'], max_tokens: 1024 } },
  { name: 'fallbacks "default" when models are unrestricted', body: msg({ fallbacks: 'default' }) },
  {
    name: 'a file reference with files:read',
    body: msg({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'file_1' } }] }] }),
    grant: { scopes: ['messages:create', 'files:read'] },
  },
  { name: 'an image by URL (not a Files API reference)', body: msg({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }] }) },
  { name: 'count_tokens needs no max_tokens', route: 'POST /v1/messages/count_tokens', body: { model: 'claude-sonnet-4-5', messages: [] }, grant: { models: ['claude-sonnet-*'] } },
  {
    name: 'a batch whose every item is allowed',
    route: 'POST /v1/messages/batches',
    body: { requests: [{ custom_id: 'a', params: msg() }, { custom_id: 'b', params: msg({ model: 'claude-sonnet-4-6' }) }] },
    grant: { scopes: ['batches:write'], models: ['claude-sonnet-4-*'] },
    betas: ['message-batches-2024-09-24'],
  },
  { name: 'harmless betas Claude Code sends', body: msg(), betas: ['claude-code-20250219', 'interleaved-thinking-2025-05-14', 'fine-grained-tool-streaming-2025-05-14', 'oauth-2025-04-20', 'context-management-2025-06-27'] },
  { name: 'a newer date of a harmless beta', body: msg(), betas: ['prompt-caching-2027-01-01'] },
  { name: 'a surrogate pair escaped the way Python sends emoji', body: '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"\\ud83d\\ude00"}]}' },
];

describe('guardRequest allows', () => {
  it.each(ALLOWED)('$name', (req) => {
    const { result, checked } = guard(req);
    expect(result.stream).toBe(req.stream ?? false);
    expect(JSON.parse(result.forwardBody!.toString('utf8'))).toEqual(checked);
  });

  it.each<Req & { name: string }>([
    { name: 'a skills read with the skills beta and scope', route: 'GET /v1/skills', betas: ['skills-2025-10-02'], grant: { scopes: ['skills:read'] } },
    { name: 'a files read with the files beta and scope', route: 'GET /v1/files', betas: ['files-api-2025-04-14'], grant: { scopes: ['files:read'] } },
    {
      name: 'a skill upload with directory-qualified files',
      route: 'POST /v1/skills',
      grant: { scopes: ['skills:write'] },
      uploads: [{ name: 'display_title', size: 10 }, { name: 'files[]', filename: 'fin_skill/SKILL.md', size: 100 }, { name: 'files[]', filename: 'fin_skill/scripts/analyze.py', size: 8 * 1024 * 1024 - 110 }],
    },
    { name: 'a new skill version', route: 'POST /v1/skills/skill_01Abc/versions', grant: { scopes: ['skills:write'] }, uploads: [{ name: 'files', filename: 'a/SKILL.md', size: 5 }] },
    { name: 'a file upload', route: 'POST /v1/files', grant: { scopes: ['files:write'] }, uploads: [{ name: 'file', filename: 'report.pdf', size: 20 * 1024 * 1024 }] },
  ])('$name (nothing to re-serialise)', (req) => {
    expect(guard(req).result).toEqual({ stream: false });
  });
});

interface Refused extends Req {
  name: string;
  status: number;
  reason: string;
  says?: RegExp;
}
const forbidden = (name: string, reason: string, req: Req, says?: RegExp): Refused => ({ name, status: 403, reason, ...req, ...(says && { says }) });
const invalid = (name: string, reason: string, req: Req, says?: RegExp): Refused => ({ name, status: 400, reason, ...req, ...(says && { says }) });

const REFUSED: Refused[] = [
  // models
  forbidden('a model outside the globs', 'model_not_allowed', { body: msg({ model: 'claude-opus-4-1' }), grant: { models: ['claude-sonnet-4-*'] } }, /model "claude-opus-4-1" is not allowed by policy "docs-bot" \(grant.models: claude-sonnet-4-\*\); use one of those models or add/),
  forbidden('an alias when only dated ids are allowed', 'model_not_allowed', { body: msg({ model: 'claude-sonnet-4-5' }), grant: { models: ['claude-sonnet-4-5-2*'] } }),
  forbidden('a count_tokens model outside the globs', 'model_not_allowed', { route: 'POST /v1/messages/count_tokens', body: { model: 'claude-opus-4-1', messages: [] }, grant: { models: ['claude-sonnet-*'] } }),
  forbidden('a fallback model outside the globs', 'model_not_allowed', { body: msg({ fallbacks: [{ model: 'claude-opus-4-1' }] }), grant: { models: ['claude-sonnet-*'] } }, /fallbacks\[0\]\.model "claude-opus-4-1"/),
  forbidden('fallbacks "default" when models are restricted', 'model_not_allowed', { body: msg({ fallbacks: 'default' }), grant: { models: ['claude-sonnet-*'] } }),
  invalid('a missing model', 'invalid_field', { body: { max_tokens: 5, messages: [] } }),
  invalid('a model that is not a string', 'invalid_field', { body: msg({ model: ['claude-sonnet-4-5'] }) }),
  invalid('a model with a NUL that a * would match', 'invalid_field', { body: msg({ model: 'claude-sonnet-4-5\u0000x' }), grant: { models: ['claude-sonnet-4-*'] } }),
  // max_tokens
  forbidden('max_tokens above the cap', 'max_tokens_exceeded', { body: msg({ max_tokens: 8193 }), grant: { max_tokens: 8192 } }, /max_tokens 8193 .*grant.max_tokens is 8192\); ask for at most 8192/),
  forbidden('a fallback max_tokens above the cap', 'max_tokens_exceeded', { body: msg({ fallbacks: [{ model: 'claude-sonnet-4-6', max_tokens: 9000 }] }), grant: { max_tokens: 8192 } }),
  invalid('max_tokens missing', 'invalid_field', { body: { model: 'claude-sonnet-4-5', messages: [] } }),
  invalid('max_tokens 0', 'invalid_field', { body: msg({ max_tokens: 0 }) }),
  invalid('max_tokens negative', 'invalid_field', { body: msg({ max_tokens: -5 }) }),
  invalid('max_tokens fractional', 'invalid_field', { body: msg({ max_tokens: 10.5 }) }),
  invalid('max_tokens as a string', 'invalid_field', { body: msg({ max_tokens: '100' }) }),
  // tools
  forbidden('client-side bash when grant.tools is unset', 'tool_not_allowed', { body: msg({ tools: [{ type: 'bash_20250124', name: 'bash' }] }) }, /grant.tools is unset, which allows custom tools only\); set tools.bash: allow/),
  forbidden('client-side bash when only code execution is allowed', 'tool_not_allowed', { body: msg({ tools: [{ type: 'bash_20250124', name: 'bash' }] }), grant: { tools: { code_execution: 'allow' } } }, /client-side bash .*grant.tools.bash is not listed/),
  forbidden('hosted code execution when only bash is allowed', 'tool_not_allowed', { body: msg({ tools: [codeExec] }), grant: { tools: { bash: 'allow', text_editor: 'allow' } } }, /Anthropic-hosted code execution/),
  forbidden('a tool family set to deny', 'tool_not_allowed', { body: msg({ tools: [{ type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' }] }), grant: { tools: { text_editor: 'deny' } } }, /grant.tools.text_editor is deny/),
  forbidden('computer use', 'tool_not_allowed', { body: msg({ tools: [{ type: 'computer_20250124', name: 'computer', display_width_px: 1, display_height_px: 1 }] }), grant: { tools: { bash: 'allow' } } }),
  forbidden('web fetch', 'tool_not_allowed', { body: msg({ tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] }) }),
  forbidden('a custom tool once grant.tools is set without custom', 'tool_not_allowed', { body: msg({ tools: [{ name: 'x', input_schema: { type: 'object' } }] }), grant: { tools: { code_execution: 'allow' } } }),
  forbidden('an MCP toolset without tools.mcp', 'tool_not_allowed', { body: msg({ tools: [{ type: 'mcp_toolset', mcp_server_name: 'docs' }] }) }),
  forbidden('an unknown tool type', 'unknown_tool_type', { body: msg({ tools: [{ type: 'shell_20250101', name: 'shell' }] }), grant: { tools: { bash: 'allow', code_execution: 'allow' } } }),
  forbidden('programmatic calling without code execution', 'code_execution_required', { body: msg({ tools: [{ name: 'x', input_schema: { type: 'object' }, allowed_callers: ['code_execution_20250825'] }] }) }),
  invalid('tools that is not an array', 'invalid_field', { body: msg({ tools: { type: 'bash_20250124' } }) }),
  invalid('a tool type that is not a string', 'invalid_field', { body: msg({ tools: [{ type: 7, name: 'x' }] }) }),
  // MCP servers
  forbidden('an MCP server without tools.mcp', 'mcp_server_not_allowed', { body: msg({ mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'docs' }] }), grant: { mcp_servers: ['https://mcp.example.com/sse'] } }),
  forbidden('an unlisted MCP server URL', 'mcp_server_not_allowed', { body: msg({ mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse?x=1', name: 'docs' }] }), grant: { tools: { mcp: 'allow' }, mcp_servers: ['https://mcp.example.com/sse'] } }, /^mcp_servers\[0\] \("docs"\) url is not allowed/),
  // skills
  forbidden('a skill not in grant.skills', 'skill_not_allowed', { body: withSkills(skill('docx', 'latest', 'anthropic')), grant: SKILLS_GRANT }, /container.skills\[0\] skill "docx" .*add docx \(any version\) or docx@<version>/),
  forbidden('skills when grant.skills is unset', 'skill_not_allowed', { body: withSkills(skill('pdf', 'latest', 'anthropic')), grant: { tools: { code_execution: 'allow' } } }, /grant.skills is empty or unset/),
  forbidden('a pinned skill at another version', 'skill_not_allowed', { body: withSkills(skill('skill_01Pinned', '1')), grant: SKILLS_GRANT }, /pins skill_01Pinned to 1759178010641129, 1759178010649999/),
  forbidden('a pinned skill at latest', 'skill_not_allowed', { body: withSkills(skill('skill_01Pinned', 'latest')), grant: SKILLS_GRANT }),
  forbidden('a pinned skill without a version', 'skill_not_allowed', { body: withSkills(skill('skill_01Pinned')), grant: SKILLS_GRANT }, /at version "latest"/),
  forbidden('skills when code execution is not allowed', 'code_execution_required', { body: msg({ container: { skills: [skill('pdf', 'latest', 'anthropic')] } }), grant: { skills: ['pdf'], tools: { bash: 'allow' } } }, /Anthropic-hosted code execution.*tools.code_execution: allow/),
  forbidden('a container id when code execution is not allowed', 'code_execution_required', { body: msg({ container: 'container_011CRJ' }) }),
  invalid('nine skills', 'too_many_skills', { body: withSkills(...Array.from({ length: 9 }, () => skill('skill_01Any'))), grant: SKILLS_GRANT }),
  invalid('a skill type outside anthropic|custom', 'invalid_field', { body: withSkills(skill('pdf', 'latest', 'plugin')), grant: SKILLS_GRANT }),
  invalid('a skill with an extra key', 'unknown_field', { body: withSkills({ ...skill('pdf'), path: '/etc' }), grant: SKILLS_GRANT }),
  invalid('a container with an extra key', 'unknown_field', { body: msg({ container: { skills: [], network: true } }), grant: SKILLS_GRANT }),
  // betas
  forbidden('an unknown beta', 'beta_not_allowed', { body: msg(), betas: ['managed-agents-2026-04-01'] }, /anthropic-beta "managed-agents-2026-04-01" is not allowed by policy "docs-bot" \(skillgate forwards known betas only\)/),
  forbidden('the code-execution beta without tools.code_execution', 'beta_not_allowed', { body: msg(), betas: ['code-execution-2025-08-25'] }, /needs tools.code_execution: allow/),
  forbidden('the files beta without a files scope', 'beta_not_allowed', { body: msg(), betas: ['files-api-2025-04-14'] }, /needs scope files:read or scope files:write/),
  // fields
  invalid('an unknown top-level field', 'unknown_field', { body: msg({ betas: ['code-execution-2025-08-25'] }) }, /"betas" is not a field skillgate can check/),
  forbidden('billing_policy', 'field_not_allowed', { body: msg({ billing_policy: { bill_to: 'user_profile' } }) }),
  forbidden('thread', 'field_not_allowed', { body: msg({ thread: { type: 'continue', previous_message_id: 'msg_1' } }) }),
  invalid('container on count_tokens', 'unknown_field', { route: 'POST /v1/messages/count_tokens', body: { model: 'claude-sonnet-4-5', messages: [], container: 'c' } }),
  invalid('system that is neither string nor text blocks', 'invalid_field', { body: msg({ system: [{ type: 'image', source: {} }] }) }),
  invalid('messages that is not an array', 'invalid_field', { body: msg({ messages: 'hi' }) }),
  invalid('metadata that is not an object', 'invalid_field', { body: msg({ metadata: 'u' }) }),
  invalid('a fallback with an unknown key', 'unknown_field', { body: msg({ fallbacks: [{ model: 'claude-sonnet-4-6', tools: [] }] }) }),
  forbidden('a Files API reference without files:read', 'file_reference_not_allowed', { body: msg({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'file_1' } }] }] }) }, /messages\[0\]\.content\[0\]\.source/),
  forbidden('a container_upload without files:read', 'file_reference_not_allowed', { body: msg({ messages: [{ role: 'user', content: [{ type: 'container_upload', file_id: 'file_1' }] }] }) }),
  forbidden('a file reference inside a tool_result', 'file_reference_not_allowed', { body: msg({ messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] }] }) }),
  invalid('a JSON route with no body', 'body_required', {}),
  // batches
  forbidden('a batch item with a model outside the globs', 'model_not_allowed', { route: 'POST /v1/messages/batches', grant: { scopes: ['batches:write'], models: ['claude-sonnet-*'] }, body: { requests: [{ custom_id: 'a', params: msg() }, { custom_id: 'b', params: msg({ model: 'claude-opus-4-1' }) }] } }, /^requests\[1\]\.params\.model "claude-opus-4-1"/),
  invalid('an empty batch', 'invalid_field', { route: 'POST /v1/messages/batches', grant: { scopes: ['batches:write'] }, body: { requests: [] } }),
  invalid('a batch item with an extra key', 'unknown_field', { route: 'POST /v1/messages/batches', grant: { scopes: ['batches:write'] }, body: { requests: [{ custom_id: 'a', params: msg(), model: 'x' }] } }),
];

describe('guardRequest refuses', () => {
  it.each(REFUSED)('$name → $status $reason', ({ status, reason, says, ...req }) => {
    const err = refusal(() => guard(req));
    expect({ status: err.status, type: err.type, reason: err.reason }).toEqual({ status, type: status === 403 ? 'permission_error' : 'invalid_request_error', reason });
    if (status === 403) expect(err.message).toContain('policy "docs-bot"');
    if (says) expect(err.message).toMatch(says);
  });
});

const SKILL_UPLOAD: Req = { route: 'POST /v1/skills', grant: { scopes: ['skills:write'] } };
const file = (filename: string | undefined, size = 10): UploadPart => ({ name: 'files[]', ...(filename !== undefined && { filename }), size });

describe('guardRequest inspects uploads', () => {
  it.each<{ name: string; uploads: UploadPart[]; req?: Req; status: number; reason: string }>([
    { name: 'skill files over 8 MiB in total', uploads: [file('s/SKILL.md', 4 * 1024 * 1024), file('s/big.bin', 4 * 1024 * 1024 + 1)], status: 413, reason: 'upload_too_large' },
    { name: 'an absolute filename', uploads: [file('/etc/passwd')], status: 400, reason: 'invalid_filename' },
    { name: 'a drive-letter filename', uploads: [file('C:/x/SKILL.md')], status: 400, reason: 'invalid_filename' },
    { name: 'a .. segment', uploads: [file('s/../../x')], status: 400, reason: 'invalid_filename' },
    { name: 'a . segment', uploads: [file('./s/SKILL.md')], status: 400, reason: 'invalid_filename' },
    { name: 'an empty segment', uploads: [file('s//SKILL.md')], status: 400, reason: 'invalid_filename' },
    { name: 'a backslash', uploads: [file('s\\..\\x')], status: 400, reason: 'invalid_filename' },
    { name: 'a NUL', uploads: [file('s/SKILL.md\u0000.png')], status: 400, reason: 'invalid_filename' },
    { name: 'a newline', uploads: [file('s/SKILL.md\r\nx')], status: 400, reason: 'invalid_filename' },
    { name: 'no filename', uploads: [file(undefined)], status: 400, reason: 'invalid_filename' },
    { name: 'an unknown part name', uploads: [{ name: 'archive', filename: 's.zip', size: 1 }], status: 400, reason: 'unknown_field' },
    { name: 'a form field carrying a filename', uploads: [{ name: 'display_title', filename: 'x', size: 1 }], status: 400, reason: 'invalid_field' },
    { name: 'a files[] part on the Files API', uploads: [file('a.pdf')], req: { route: 'POST /v1/files', grant: { scopes: ['files:write'] } }, status: 400, reason: 'unknown_field' },
  ])('$name → $status $reason', ({ uploads, req, status, reason }) => {
    const err = refusal(() => guard({ ...(req ?? SKILL_UPLOAD), uploads }));
    expect({ status: err.status, type: err.type, reason: err.reason }).toEqual({ status, type: status === 413 ? 'request_too_large' : 'invalid_request_error', reason });
  });
});

describe('parseJsonBody', () => {
  it.each<{ name: string; raw: Buffer | string; status: number; reason: string }>([
    { name: 'a body over the limit', raw: `{"a":"${'x'.repeat(300)}"}`, status: 413, reason: 'body_too_large' },
    { name: 'invalid UTF-8', raw: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), status: 400, reason: 'invalid_utf8' },
    { name: 'a UTF-8 BOM', raw: '\ufeff{"a":1}', status: 400, reason: 'invalid_json' },
    { name: 'not JSON', raw: '{"a":1,}', status: 400, reason: 'invalid_json' },
    { name: 'a duplicate key', raw: '{"stream":false,"stream":true}', status: 400, reason: 'duplicate_key' },
    { name: 'a duplicate key spelt with an escape', raw: '{"model":"a","\\u006dodel":"b"}', status: 400, reason: 'duplicate_key' },
    { name: '__proto__', raw: '{"__proto__":{"x":1}}', status: 400, reason: 'prototype_key' },
    { name: 'constructor holding an object', raw: '{"constructor":{"prototype":{}}}', status: 400, reason: 'prototype_key' },
    { name: 'nesting deeper than the parser allows', raw: `${'['.repeat(70)}${']'.repeat(70)}`, status: 400, reason: 'too_deep' },
    { name: 'an array at the top', raw: '[{"model":"x"}]', status: 400, reason: 'body_not_object' },
    { name: 'null at the top', raw: 'null', status: 400, reason: 'body_not_object' },
    { name: 'a lone surrogate in a value', raw: '{"a":"\\ud800"}', status: 400, reason: 'lone_surrogate' },
    { name: 'a lone surrogate in a key', raw: '{"\\uDC00":1}', status: 400, reason: 'lone_surrogate' },
  ])('refuses $name → $status $reason', ({ raw, status, reason }) => {
    const err = refusal(() => parseJsonBody(typeof raw === 'string' ? Buffer.from(raw) : raw, 256));
    expect({ status: err.status, reason: err.reason }).toEqual({ status, reason });
  });

  it('returns the object of a valid body', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,{"b":"\\ud83d\\ude00"}]}'), 64)).toEqual({ a: [1, { b: '😀' }] });
  });
});

describe('model globs', () => {
  it.each<[string, string, boolean]>([
    ['claude-sonnet-4-*', 'claude-sonnet-4-5-20250929', true],
    ['claude-sonnet-4-*', 'claude-sonnet-4-', true],
    ['claude-sonnet-4-*', 'claude-sonnet-3-7', false],
    ['claude-*-4-5', 'claude-opus-4-5', true],
    ['claude-*-4-5', 'claude-opus-4-5-20251101', false],
    ['claude-haiku-4-5', 'claude-haiku-4-5', true],
    ['claude-haiku-4-5', 'xclaude-haiku-4-5', false],
    ['claude-haiku-4-?', 'claude-haiku-4-5', true],
    ['claude.*', 'claudeX', false],
    ['*', 'anything', true],
    ['a*a*a*a*a*a*a*b', 'a'.repeat(5000), false],
  ])('%s ~ %s → %s', (glob, model, expected) => {
    expect(matchGlob(glob, model)).toBe(expected);
  });
});

describe('tool families', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, 'custom'],
    ['custom', 'custom'],
    ['bash_20250124', 'bash'],
    ['bash_20241022', 'bash'],
    ['code_execution_20250522', 'code_execution'],
    ['code_execution_20250825', 'code_execution'],
    ['code_execution_20260521', 'code_execution'],
    ['text_editor_20250124', 'text_editor'],
    ['text_editor_20250728', 'text_editor'],
    ['computer_20251124', 'computer'],
    ['computer_toolset_20260801', 'computer'],
    ['memory_20250818', 'memory'],
    ['web_search_20260318', 'web_search'],
    ['web_fetch_20260309', 'web_fetch'],
    ['tool_search_tool_bm25_20251119', 'tool_search'],
    ['advisor_20260301', 'advisor'],
    ['browser_toolset_20260801', 'browser'],
    ['mcp_toolset', 'mcp'],
    ['bash_code_execution_20250825', undefined],
    ['code_execution', undefined],
    ['Bash_20250124', undefined],
    ['bash_2025012', undefined],
  ])('%s → %s', (type, family) => {
    expect(classifyToolType(type)).toBe(family);
  });
});
