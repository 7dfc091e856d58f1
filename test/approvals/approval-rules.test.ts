// Which requests need a human approval: `grant.approval.for` entries parsed and matched against
// what a request names (operation, models, tool families, skills, max_tokens), batches included.
import { describe, expect, it } from 'vitest';
import { matchApprovalRules, parseApprovalRule, summarizeRequest, type ApprovalRule } from '../../broker/approvals/approval-rules.ts';
import { classifyRequest } from '../../broker/proxy/classify.ts';

const messages = classifyRequest('POST', '/v1/messages', {});
const countTokens = classifyRequest('POST', '/v1/messages/count_tokens', {});
const batches = classifyRequest('POST', '/v1/messages/batches', {});
const skillUpload = classifyRequest('POST', '/v1/skills', {});

const ask = (extra: Record<string, unknown> = {}) => ({ model: 'claude-sonnet-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }], ...extra });
const rules = (...entries: string[]) => entries.map((e) => parseApprovalRule(e) as ApprovalRule);

describe('parseApprovalRule', () => {
  it.each<[string, ApprovalRule]>([
    ['skills:write', { kind: 'scope', scope: 'skills:write' }],
    ['messages:create', { kind: 'scope', scope: 'messages:create' }],
    ['tool:bash', { kind: 'tool', family: 'bash' }],
    ['tool:code_execution', { kind: 'tool', family: 'code_execution' }],
    ['skill:pdf', { kind: 'skill', id: 'pdf' }],
    ['skill:skill_01AbC@1759178010641129', { kind: 'skill', id: 'skill_01AbC', version: '1759178010641129' }],
    ['model:claude-opus-*', { kind: 'model', glob: 'claude-opus-*' }],
    ['max_tokens>8192', { kind: 'max_tokens', above: 8192 }],
    ['max_tokens > 100', { kind: 'max_tokens', above: 100 }],
  ])('reads %s', (entry, rule) => {
    expect(parseApprovalRule(entry)).toEqual(rule);
  });

  it.each([
    ['skills:writ', /not a scope .*scopes are: messages:create/],
    ['tool:shell', /names no tool family; families are: code_execution/],
    ['tool:', /is not a scope/],
    ['model:', /is not a scope/],
    ['max_tokens>=10', /max_tokens>N/],
    ['max_tokens>0', /max_tokens>N/],
    ['opus', /model:GLOB/],
  ])('refuses %s and says what would do', (entry, message) => {
    expect(parseApprovalRule(entry)).toMatch(message);
  });
});

describe('matchApprovalRules', () => {
  it.each<[string, ReturnType<typeof classifyRequest>, Record<string, unknown> | undefined, string[], string[]]>([
    ['a scope by operation', skillUpload, undefined, ['skills:write'], ['operation skills:write']],
    ['no rule for another operation', messages, ask(), ['skills:write'], []],
    ['a model glob', messages, ask({ model: 'claude-opus-5' }), ['model:claude-opus-*'], ['model claude-opus-5']],
    ['a model outside the glob', messages, ask(), ['model:claude-opus-*'], []],
    ['max_tokens above the bound', messages, ask({ max_tokens: 8193 }), ['max_tokens>8192'], ['max_tokens 8193 > 8192']],
    ['max_tokens at the bound', messages, ask({ max_tokens: 8192 }), ['max_tokens>8192'], []],
    ['a dated client tool', messages, ask({ tools: [{ type: 'bash_20250124', name: 'bash' }] }), ['tool:bash'], ['tool bash']],
    ['a custom tool against a bash rule', messages, ask({ tools: [{ name: 'lookup', input_schema: { type: 'object' } }] }), ['tool:bash'], []],
    ['a skill, any version', messages, ask({ container: { skills: [{ type: 'anthropic', skill_id: 'pdf', version: 'latest' }] } }), ['skill:pdf'], ['skill pdf@latest']],
    ['a pinned rule against another version', messages, ask({ container: { skills: [{ type: 'custom', skill_id: 'sk', version: '2' }] } }), ['skill:sk@1'], []],
    ['a pinned rule against an unversioned skill (it may run that version)', messages, ask({ container: { skills: [{ type: 'custom', skill_id: 'sk' }] } }), ['skill:sk@1'], ['skill sk']],
    ['several rules at once', messages, ask({ model: 'claude-opus-5', max_tokens: 9000 }), ['model:claude-opus-*', 'max_tokens>8192', 'tool:bash'], ['model claude-opus-5', 'max_tokens 9000 > 8192']],
    ['count_tokens runs no model (only its operation counts)', countTokens, ask({ model: 'claude-opus-5' }), ['model:claude-opus-*'], []],
  ])('matches %s', (_name, route, body, entries, reasons) => {
    expect(matchApprovalRules(rules(...entries), summarizeRequest(route, body))).toEqual(reasons);
  });

  it('looks into every item of a batch', () => {
    const body = { requests: [{ custom_id: 'a', params: ask() }, { custom_id: 'b', params: ask({ model: 'claude-opus-5', max_tokens: 20000 }) }] };
    const summary = summarizeRequest(batches, body);
    expect(summary).toMatchObject({ operation: 'batches:write', models: ['claude-sonnet-5', 'claude-opus-5'], maxTokens: 20000 });
    expect(matchApprovalRules(rules('model:claude-opus-*'), summary)).toEqual(['model claude-opus-5']);
  });
});
