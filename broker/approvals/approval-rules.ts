import { SCOPES, type Scope } from '../config/schema.ts';
import type { ClassifiedRequest } from '../proxy/operation.ts';
import { matchGlob } from '../proxy/guard/models.ts';
import { classifyToolType, TOOL_FAMILIES, type ToolFamily } from '../proxy/guard/tools.ts';

/** One entry of `grant.approval.for`, compiled: what about a request makes it need an approval. */
export type ApprovalRule =
  | { kind: 'scope'; scope: Scope }
  | { kind: 'tool'; family: ToolFamily }
  | { kind: 'skill'; id: string; version?: string }
  | { kind: 'model'; glob: string }
  | { kind: 'max_tokens'; above: number };

/** What a request asks for, as an approver reads it (and as the rules match it). */
export interface RequestSummary {
  operation: string;
  route: string;
  models: string[];
  tools: string[];
  skills: string[];
  maxTokens?: number;
}

const RULE_FORMS = 'a scope (skills:write), tool:FAMILY (tool:bash), skill:ID (skill:pdf), model:GLOB (model:claude-opus-*) or max_tokens>N';

/** `parseApprovalRule` reads one `approval.for` entry; a string is the problem (with the fix) when it is not one of the forms. */
export function parseApprovalRule(entry: string): ApprovalRule | string {
  if ((SCOPES as readonly string[]).includes(entry)) return { kind: 'scope', scope: entry as Scope };
  const bound = /^max_tokens\s*>\s*([1-9][0-9]{0,8})$/.exec(entry);
  if (bound) return { kind: 'max_tokens', above: Number(bound[1]) };
  const colon = entry.indexOf(':');
  const [prefix, value] = colon < 0 ? [entry, ''] : [entry.slice(0, colon), entry.slice(colon + 1)];
  if (value !== '') {
    if (prefix === 'tool') {
      if (Object.hasOwn(TOOL_FAMILIES, value)) return { kind: 'tool', family: value as ToolFamily };
      return `"${entry}" names no tool family; families are: ${Object.keys(TOOL_FAMILIES).join(', ')}`;
    }
    if (prefix === 'skill') {
      const at = value.indexOf('@');
      return at < 0 ? { kind: 'skill', id: value } : { kind: 'skill', id: value.slice(0, at), version: value.slice(at + 1) };
    }
    if (prefix === 'model') return { kind: 'model', glob: value };
  }
  return `"${entry}" is not ${RULE_FORMS}; scopes are: ${SCOPES.join(', ')}`;
}

/** `compileApprovalRules` parses a policy's `approval.for`, reporting every bad entry with its config path. */
export function compileApprovalRules(entries: readonly string[], at: string, problems: string[]): ApprovalRule[] {
  const rules: ApprovalRule[] = [];
  entries.forEach((entry, i) => {
    const rule = parseApprovalRule(entry);
    if (typeof rule === 'string') problems.push(`${at}[${i}]: ${rule}`);
    else rules.push(rule);
  });
  return rules;
}

/**
 * `summarizeRequest` lists the models, tool families, skills and the largest max_tokens a request
 * names, across every item of a batch. count_tokens runs no model, tool or skill, so only its
 * operation counts.
 */
export function summarizeRequest(route: ClassifiedRequest, body: Record<string, unknown> | undefined): RequestSummary {
  const summary: RequestSummary = { operation: route.operation, route: route.route, models: [], tools: [], skills: [] };
  for (const params of generatingParams(route, body)) {
    if (typeof params['model'] === 'string') summary.models.push(params['model']);
    const max = params['max_tokens'];
    if (typeof max === 'number' && max > (summary.maxTokens ?? 0)) summary.maxTokens = max;
    for (const tool of asArray(params['tools'])) {
      const family = classifyToolType(typeof tool['type'] === 'string' ? tool['type'] : undefined);
      if (family !== undefined) summary.tools.push(family);
    }
    const container = params['container'];
    const skills = isObject(container) ? asArray(container['skills']) : [];
    for (const skill of skills) {
      if (typeof skill['skill_id'] === 'string') summary.skills.push(typeof skill['version'] === 'string' ? `${skill['skill_id']}@${skill['version']}` : skill['skill_id']);
    }
  }
  return { ...summary, models: unique(summary.models), tools: unique(summary.tools), skills: unique(summary.skills) };
}

/** `matchApprovalRules` returns why a request needs an approval (one phrase per matched rule); empty when it needs none. */
export function matchApprovalRules(rules: readonly ApprovalRule[], summary: RequestSummary): string[] {
  const reasons: string[] = [];
  for (const rule of rules) {
    switch (rule.kind) {
      case 'scope':
        if (summary.operation === rule.scope) reasons.push(`operation ${rule.scope}`);
        break;
      case 'tool':
        if (summary.tools.includes(rule.family)) reasons.push(`tool ${rule.family}`);
        break;
      case 'skill':
        for (const s of summary.skills.filter((s) => skillMatches(rule, s))) reasons.push(`skill ${s}`);
        break;
      case 'model':
        for (const m of summary.models.filter((m) => matchGlob(rule.glob, m))) reasons.push(`model ${m}`);
        break;
      case 'max_tokens':
        if (summary.maxTokens !== undefined && summary.maxTokens > rule.above) reasons.push(`max_tokens ${summary.maxTokens} > ${rule.above}`);
        break;
    }
  }
  return unique(reasons);
}

function skillMatches(rule: { id: string; version?: string }, named: string): boolean {
  const at = named.indexOf('@');
  const id = at < 0 ? named : named.slice(0, at);
  if (id !== rule.id) return false;
  // A rule pinned to one version matches that version only; an unversioned request may run any.
  return rule.version === undefined || at < 0 || named.slice(at + 1) === rule.version;
}

/** The Messages parameter objects of a request that generates: one for messages.create, one per batch item. */
function generatingParams(route: ClassifiedRequest, body: Record<string, unknown> | undefined): Record<string, unknown>[] {
  if (body === undefined) return [];
  if (route.route === 'POST /v1/messages') return [body];
  if (route.route === 'POST /v1/messages/batches') {
    return asArray(body['requests'])
      .map((item) => item['params'])
      .filter(isObject);
  }
  return [];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isObject) : []);
const unique = <T>(items: T[]): T[] => [...new Set(items)];
