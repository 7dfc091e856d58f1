import type { Scope } from '../../config/schema.ts';
import type { Grant } from '../../policy/grant.ts';
import { quote, refuse, type GuardContext } from './context.ts';
import { toolAllowed, type ToolFamily } from './tools.ts';

/**
 * What an `anthropic-beta` value needs from the grant. A beta that unlocks a tool or an API
 * surface is allowed when the grant allows any one of the listed tool families or scopes;
 * `harmless` betas change how the model answers, never what it can reach (C-11).
 */
type BetaRule = 'harmless' | { tools?: ToolFamily[]; scopes?: Scope[] };

/**
 * Beta names without their `-YYYY-MM-DD` (or `-YYYYMMDD`) date (reference §2.3, §3.2, §3.11, SDK `AnthropicBeta`),
 * so a newer date of a known beta keeps its rule and a name never seen before is refused.
 * Deliberately absent (refused as unknown): surfaces skillgate does not proxy (managed-agents,
 * user-profiles, webhooks, mcp-tunnels, agent-memory, message-threads, admin and billing betas),
 * and betas that move tool definitions out of `tools[]` (inline-tools,
 * mid-conversation-tool-changes), where the guard would not see them.
 */
export const BETA_RULES: ReadonlyMap<string, BetaRule> = new Map<string, BetaRule>([
  // Unlock a tool family: allowed only when the grant allows that family.
  ['code-execution', { tools: ['code_execution'] }],
  ['computer-use', { tools: ['computer'] }],
  ['mcp-client', { tools: ['mcp'] }],
  ['web-fetch', { tools: ['web_fetch'] }],
  ['web-search', { tools: ['web_search'] }],
  ['advisor-tool', { tools: ['advisor'] }],
  // Unlock an API surface: the Skills API (or Skills inside Messages, which need code execution),
  // the Files API (also `file_id` references in messages), Message Batches.
  ['skills', { tools: ['code_execution'], scopes: ['skills:read', 'skills:write', 'skills:delete'] }],
  ['files-api', { scopes: ['files:read', 'files:write'] }],
  ['message-batches', { scopes: ['batches:read', 'batches:write'] }],
  // Harmless: output shape, thinking, caching, context size, token counting, streaming detail.
  // The body fields some of them enable (fallbacks, context_management…) are checked by the guard.
  ...[
    'claude-code',
    'interleaved-thinking',
    'adaptive-thinking',
    'dev-full-thinking',
    'fine-grained-tool-streaming',
    'prompt-caching',
    'extended-cache-ttl',
    'cache-diagnosis',
    'pdfs',
    'token-counting',
    'token-efficient-tools',
    'output-128k',
    'output-300k',
    'context-1m',
    'context-management',
    'model-context-window-exceeded',
    'compact',
    'fast-mode',
    'structured-outputs',
    'task-budgets',
    'thinking-token-count',
    'thinking-display-updates',
    'thinking-binding-controls',
    'server-side-fallback',
    'fallback-credit',
    'mid-conversation-output-config',
    'mid-conversation-system-clear-at',
    // Claude Code sends it when logged in with OAuth; the proxy replaces every caller credential
    // with the upstream key, so it changes nothing the caller could exploit.
    'oauth',
  ].map((name): [string, BetaRule] => [name, 'harmless']),
]);

// Dates come as `2025-08-25` or, in older values, `20250219` (claude-code-20250219).
const DATED_BETA = /^([a-z0-9]+(?:-[a-z0-9]+)*?)-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/** `betaName` is the rule key of a beta value (`code-execution-2025-08-25` → `code-execution`), or undefined when it is not of that shape. */
export function betaName(value: string): string | undefined {
  return DATED_BETA.exec(value)?.[1];
}

function satisfied(rule: Exclude<BetaRule, 'harmless'>, grant: Grant): boolean {
  return (rule.tools ?? []).some((t) => toolAllowed(grant, t)) || (rule.scopes ?? []).some((s) => grant.scopes.includes(s));
}

function requirement(rule: Exclude<BetaRule, 'harmless'>): string {
  return [...(rule.tools ?? []).map((t) => `tools.${t}: allow`), ...(rule.scopes ?? []).map((s) => `scope ${s}`)].join(' or ');
}

/**
 * `checkBetas` enforces the `anthropic-beta` allowlist (C-11): every value must be a known beta
 * (403 `beta_not_allowed` otherwise), and a beta that unlocks a tool or surface needs the grant to
 * allow it. Checked before the body, so a refused header costs no body work.
 */
export function checkBetas(betas: readonly string[], ctx: GuardContext): void {
  for (const value of betas) {
    if (value === '') continue;
    const name = betaName(value);
    const rule = name === undefined ? undefined : BETA_RULES.get(name);
    if (rule === undefined) {
      throw refuse(ctx, 'beta_not_allowed', `anthropic-beta ${quote(value)}`, 'skillgate forwards known betas only', 'remove the value, or ask the skillgate maintainers to classify it');
    }
    if (rule === 'harmless' || satisfied(rule, ctx.grant)) continue;
    const needs = requirement(rule);
    throw refuse(ctx, 'beta_not_allowed', `anthropic-beta ${quote(value)}`, `it needs ${needs}`, `grant ${needs} in the policy, or drop the beta`);
  }
}
