import type { Grant } from '../../policy/grant.ts';
import { badField, isObject, quote, refuse, type GuardContext } from './context.ts';

/**
 * Tool families a policy names in `grant.tools`, with where each runs. The split that matters:
 * `code_execution` runs in Anthropic's sandboxed container (what Skills need), while `bash`,
 * `text_editor`, `computer` and `memory` are executed by the caller on its own machine — the API
 * only emits `tool_use` for them. Allowing one never allows the other.
 */
export const TOOL_FAMILIES = {
  code_execution: "Anthropic-hosted code execution (a sandboxed container; Skills run there)",
  web_search: 'Anthropic-hosted web search',
  web_fetch: 'Anthropic-hosted web fetch',
  tool_search: 'Anthropic-hosted tool search',
  advisor: 'Anthropic-hosted advisor model',
  mcp: 'MCP toolset (Anthropic connects to the remote MCP server)',
  bash: "client-side bash (runs on the caller's machine)",
  text_editor: "client-side text editor (edits files on the caller's machine)",
  computer: "client-side computer use (drives the caller's screen)",
  memory: "client-side memory tool (reads and writes the caller's files)",
  browser: 'browser toolset',
  custom: 'custom tool (defined and run by the caller)',
} as const;
export type ToolFamily = keyof typeof TOOL_FAMILIES;

/**
 * Versioned tool `type` names without their `_YYYYMMDD` date (reference §3.2), so a newer dated
 * version of a known tool lands in the same family and a name never seen before is refused.
 */
const DATED_TOOL_TYPES: ReadonlyMap<string, ToolFamily> = new Map([
  ['code_execution', 'code_execution'],
  ['web_search', 'web_search'],
  ['web_fetch', 'web_fetch'],
  ['tool_search_tool_regex', 'tool_search'],
  ['tool_search_tool_bm25', 'tool_search'],
  ['advisor', 'advisor'],
  ['bash', 'bash'],
  ['text_editor', 'text_editor'],
  ['computer', 'computer'],
  ['computer_toolset', 'computer'],
  ['memory', 'memory'],
  ['browser_toolset', 'browser'],
]);

const DATED = /^([a-z0-9_]+)_(\d{8})$/;

/** `classifyToolType` maps a tool definition's `type` to its family; undefined for a type skillgate does not know. */
export function classifyToolType(type: string | undefined): ToolFamily | undefined {
  if (type === undefined || type === 'custom') return 'custom';
  if (type === 'mcp_toolset') return 'mcp';
  const base = DATED.exec(type)?.[1];
  return base === undefined ? undefined : DATED_TOOL_TYPES.get(base);
}

/**
 * `toolAllowed` reads `grant.tools`: unset allows custom tools only (a policy that says nothing
 * about tools gets no server-side or machine-touching tools); set, a family must be `allow`.
 */
export function toolAllowed(grant: Grant, family: ToolFamily): boolean {
  const tools = grant.tools;
  if (tools === undefined) return family === 'custom';
  return Object.hasOwn(tools, family) && tools[family] === 'allow';
}

/** The fix a refusal suggests for a family the grant does not allow. */
export function toolRule(grant: Grant, family: ToolFamily): string {
  if (grant.tools === undefined) return 'grant.tools is unset, which allows custom tools only';
  return `grant.tools.${family} is ${grant.tools[family] ?? 'not listed'}`;
}

/**
 * `checkTools` enforces the tool allowlist on `tools[]`:
 * - each definition is classified by its `type`; an unknown type is refused (403
 *   `unknown_tool_type`) rather than guessed at;
 * - its family must be allowed by `grant.tools` (403 `tool_not_allowed`);
 * - `allowed_callers` other than `direct` lets code inside the container call the tool
 *   (programmatic tool calling), so it needs `code_execution` (403 `code_execution_required`).
 */
export function checkTools(tools: unknown, ctx: GuardContext): void {
  if (tools === undefined) return;
  if (!Array.isArray(tools)) throw badField(ctx, 'tools', 'an array of tool definitions');
  tools.forEach((tool: unknown, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool)) throw badField(ctx, at, 'a tool definition object');
    const type = tool['type'];
    if (type !== undefined && typeof type !== 'string') throw badField(ctx, `${at}.type`, 'a string');
    const family = classifyToolType(type);
    if (family === undefined) {
      throw refuse(ctx, 'unknown_tool_type', `${at}.type ${quote(type ?? '')}`, 'unknown tool types are refused', `skillgate recognises: custom, mcp_toolset and the dated types of ${[...DATED_TOOL_TYPES.keys()].join(', ')}`);
    }
    if (!toolAllowed(ctx.grant, family)) {
      throw refuse(ctx, 'tool_not_allowed', `${at} (${family}: ${TOOL_FAMILIES[family]})`, toolRule(ctx.grant, family), `set tools.${family}: allow in the policy's grant to allow it`);
    }
    checkAllowedCallers(tool['allowed_callers'], ctx, at);
  });
}

function checkAllowedCallers(callers: unknown, ctx: GuardContext, at: string): void {
  if (callers === undefined) return;
  if (!Array.isArray(callers) || !callers.every((c) => typeof c === 'string')) throw badField(ctx, `${at}.allowed_callers`, 'an array of strings');
  if (callers.every((c) => c === 'direct') || toolAllowed(ctx.grant, 'code_execution')) return;
  throw refuse(ctx, 'code_execution_required', `${at}.allowed_callers (calls from inside the code-execution container)`, toolRule(ctx.grant, 'code_execution'), 'set tools.code_execution: allow or send allowed_callers: ["direct"]');
}
