import { isPositiveInteger } from './body.ts';
import { badField, isObject, onlyKnownKeys, refuse, unknownField, type GuardContext } from './context.ts';
import { checkMcpServers } from './mcp.ts';
import { checkModel } from './models.ts';
import { checkContainer } from './skills.ts';
import { checkTools } from './tools.ts';

/** Which request a Messages-shaped body is: `POST /v1/messages`, count_tokens, or one batch item. */
export type MessagesKind = 'create' | 'count_tokens' | 'batch_item';

/**
 * Top-level fields the guard reads and forwards (reference §3.1, §3.6; SDK 1.14 params). A
 * positive list (C-27): a field the guard has never seen could carry a model, a tool or a skill
 * past it, so it is a 400 `unknown_field` until someone classifies it here.
 */
const CREATE_FIELDS: ReadonlySet<string> = new Set([
  'model', 'max_tokens', 'messages', 'system', 'stream', 'tools', 'tool_choice', 'container', 'metadata',
  'stop_sequences', 'temperature', 'top_k', 'top_p', 'thinking', 'output_config', 'output_format', 'service_tier',
  'inference_geo', 'cache_control', 'speed', 'diagnostics', 'mcp_servers', 'context_management', 'fallbacks',
  'fallback_credit_token', 'compaction',
]);
const COUNT_TOKENS_FIELDS: ReadonlySet<string> = new Set([
  'model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'output_format', 'cache_control',
  'speed', 'mcp_servers', 'context_management', 'compaction',
]);

/**
 * Fields the API knows that no CI token may use, refused with 403 `field_not_allowed`:
 * `billing_policy` bills another party; `thread` resumes server-held conversation state by a
 * message id, which may belong to another token's conversation.
 */
const REFUSED_FIELDS: ReadonlyMap<string, string> = new Map([
  ['billing_policy', 'bills the request to another party'],
  ['thread', "resumes server-held conversation state that may belong to another token's session"],
]);

const FALLBACK_FIELDS: ReadonlySet<string> = new Set(['model', 'max_tokens', 'output_config', 'speed', 'thinking']);

/**
 * `checkMessagesParams` guards one Messages-shaped body against the grant:
 * field allowlist → model (and fallback models) → max_tokens cap → `stream` is a boolean (C-28)
 * → `messages`/`system` shapes → tools → mcp_servers → container and skills → file references.
 */
export function checkMessagesParams(body: Record<string, unknown>, kind: MessagesKind, ctx: GuardContext): void {
  for (const key of Object.keys(body)) {
    const why = REFUSED_FIELDS.get(key);
    if (why !== undefined) throw refuse(ctx, 'field_not_allowed', key, `it ${why}`, 'remove the field');
  }
  const fields = kind === 'count_tokens' ? COUNT_TOKENS_FIELDS : CREATE_FIELDS;
  onlyKnownKeys(body, fields, ctx);

  checkModel(body['model'], ctx);
  if (kind !== 'count_tokens') checkMaxTokens(body['max_tokens'], ctx, 'max_tokens');
  if (body['stream'] !== undefined && typeof body['stream'] !== 'boolean') throw badField(ctx, 'stream', 'true or false');
  if (!Array.isArray(body['messages'])) throw badField(ctx, 'messages', 'an array of messages');
  checkSystem(body['system'], ctx);
  if (body['metadata'] !== undefined && !isObject(body['metadata'])) throw badField(ctx, 'metadata', 'an object');
  checkFallbacks(body['fallbacks'], ctx);

  checkTools(body['tools'], ctx);
  checkMcpServers(body['mcp_servers'], ctx);
  checkContainer(body['container'], ctx);
  checkFileReferences(body['messages'], ctx);
}

/** `max_tokens` must be a safe positive integer (C-26) and at most `grant.maxTokens` (403 `max_tokens_exceeded`). */
function checkMaxTokens(value: unknown, ctx: GuardContext, field: string): void {
  if (!isPositiveInteger(value)) throw badField(ctx, field, 'a positive whole number');
  const cap = ctx.grant.maxTokens;
  if (cap === undefined || value <= cap) return;
  throw refuse(ctx, 'max_tokens_exceeded', `${field} ${value}`, `grant.max_tokens is ${cap}`, `ask for at most ${cap} tokens or raise grant.max_tokens`);
}

/** `system` is a string or text blocks (C-27): the two shapes the API accepts, nothing else. */
function checkSystem(system: unknown, ctx: GuardContext): void {
  if (system === undefined || typeof system === 'string') return;
  if (Array.isArray(system) && system.every((b) => isObject(b) && b['type'] === 'text')) return;
  throw badField(ctx, 'system', 'a string or an array of {type: "text"} blocks');
}

/**
 * `fallbacks` names models the server retries with when the first declines: each is held to
 * `grant.models` and `grant.max_tokens` like the request's own. `"default"` lets the server pick
 * models the policy cannot see, so it is refused whenever `grant.models` is set.
 */
function checkFallbacks(fallbacks: unknown, ctx: GuardContext): void {
  if (fallbacks === undefined || fallbacks === null) return;
  if (fallbacks === 'default') {
    const models = ctx.grant.models;
    if (models === undefined) return;
    throw refuse(ctx, 'model_not_allowed', 'fallbacks "default" (server-chosen models)', `grant.models: ${models.join(', ')}`, 'name the fallback models explicitly');
  }
  if (!Array.isArray(fallbacks)) throw badField(ctx, 'fallbacks', '"default" or an array of {model, …}');
  fallbacks.forEach((entry: unknown, i) => {
    const at = `fallbacks[${i}]`;
    if (!isObject(entry)) throw badField(ctx, at, 'an object {model, …}');
    for (const key of Object.keys(entry)) if (!FALLBACK_FIELDS.has(key)) throw unknownField(ctx, `${at}.${key}`, FALLBACK_FIELDS);
    checkModel(entry['model'], ctx, `${at}.model`);
    if (entry['max_tokens'] !== undefined && entry['max_tokens'] !== null) checkMaxTokens(entry['max_tokens'], ctx, `${at}.max_tokens`);
  });
}

/**
 * Content that points at a Files API object (`{source: {type: "file", file_id}}`,
 * `container_upload`) reads a file by id, and file ids are shared by the whole organisation:
 * it needs the `files:read` scope (403 `file_reference_not_allowed`).
 */
function checkFileReferences(messages: unknown[], ctx: GuardContext): void {
  if (ctx.grant.scopes.includes('files:read')) return;
  messages.forEach((message: unknown, i) => {
    const content = isObject(message) ? message['content'] : undefined;
    const found = Array.isArray(content) ? findFileReference(content, `messages[${i}].content`) : undefined;
    if (found !== undefined) {
      throw refuse(ctx, 'file_reference_not_allowed', `${found} (a Files API file_id)`, 'the grant lacks scope files:read', 'add files:read to the grant scopes, or send the content inline');
    }
  });
}

function findFileReference(blocks: unknown[], at: string): string | undefined {
  for (const [i, block] of blocks.entries()) {
    if (!isObject(block)) continue;
    const here = `${at}[${i}]`;
    if (block['type'] === 'container_upload') return here;
    const source = block['source'];
    if (isObject(source)) {
      if (source['type'] === 'file') return `${here}.source`;
      if (Array.isArray(source['content'])) {
        const nested = findFileReference(source['content'], `${here}.source.content`);
        if (nested !== undefined) return nested;
      }
    }
    if (Array.isArray(block['content'])) {
      const nested = findFileReference(block['content'], `${here}.content`);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}
