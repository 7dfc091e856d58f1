/**
 * Messages API (§3): `POST /v1/messages` (JSON, or SSE when `stream: true`) and
 * `POST /v1/messages/count_tokens`.
 *
 * Scripted replies are chosen by the text of the last user message; the first keyword found
 * wins, in this order (builders in `replies.ts`):
 *
 *   long-stream-N     N text deltas of ~512 characters (throughput benchmarks; N ≤ 20 000)
 *   echo-secret-tool  `tool_use` (`record_note`) whose input carries the configured `echoSecret`,
 *                     JSON-escaped and split across several `input_json_delta` pieces
 *   echo-secret       text carrying `echoSecret`, split across three `text_delta`s so no single
 *                     delta holds it (stream E)
 *   tool-use          text + client `tool_use` (the first custom tool in `tools`, else
 *                     `get_weather`), `stop_reason: "tool_use"` (stream B)
 *   code-exec         `server_tool_use` `bash_code_execution` → `bash_code_execution_tool_result`
 *                     naming a downloadable `file_id` → text; the reply carries a container (stream C)
 *   pause-turn        text, `stop_reason: "pause_turn"`
 *   refusal           text, `stop_reason: "refusal"`
 *   anything else     the fixed text `DEFAULT_REPLY` (stream A)
 */
import type { Route, StubContext, StubState } from './context.ts';
import { jsonBody } from './context.ts';
import { invalidRequest, notFound } from './errors.ts';
import { DAY_MS, isoAt, newId } from './ids.ts';
import { findModel } from './models.ts';
import { scriptFor } from './replies.ts';
import { sendJson } from './reply.ts';
import { estimateTokens, toEvents, toMessage, type Container, type ContainerSkill, type ReplyMeta, type Script } from './script.ts';
import { ANTHROPIC_SKILL_VERSION } from './skill-store.ts';
import { streamEvents } from './sse.ts';

const MAX_SKILLS = 8;

type Body = Record<string, unknown>;
interface SkillRef {
  type?: unknown;
  skill_id?: unknown;
  version?: unknown;
}

function requireField(body: Body, field: string, kind: 'string' | 'number' | 'array'): void {
  const value = body[field];
  if (value === undefined) throw invalidRequest(`${field}: Field required`);
  const ok = kind === 'array' ? Array.isArray(value) : typeof value === kind;
  if (!ok) throw invalidRequest(`${field}: Input should be a valid ${kind === 'array' ? 'list' : kind}`);
}

function requireKnownModel(body: Body): string {
  const model = String(body['model']);
  if (!findModel(model)) throw notFound(`model: ${model}`);
  return model;
}

function containerSkills(body: Body): SkillRef[] {
  const container = body['container'];
  if (typeof container !== 'object' || container === null) return [];
  const skills = (container as { skills?: unknown }).skills;
  return Array.isArray(skills) ? (skills as SkillRef[]) : [];
}

function usesCodeExecution(body: Body): boolean {
  const tools = Array.isArray(body['tools']) ? body['tools'] : [];
  return tools.some((tool) => String((tool as { type?: unknown } | null)?.type ?? '').startsWith('code_execution_'));
}

/** `validateCreate` applies the checks of §8 in the order a client would trip over them. */
function validateCreate(body: Body): string {
  requireField(body, 'model', 'string');
  requireField(body, 'max_tokens', 'number');
  requireField(body, 'messages', 'array');
  if ((body['messages'] as unknown[]).length === 0) throw invalidRequest('messages: at least one message is required');
  const model = requireKnownModel(body);
  const skills = containerSkills(body);
  if (skills.length > MAX_SKILLS) {
    throw invalidRequest(`container.skills: List should have at most ${MAX_SKILLS} items after validation, not ${skills.length}`);
  }
  // Assumed rule (§8): the docs say skills require the code-execution tool; exact wording unverified.
  if (skills.length > 0 && !usesCodeExecution(body)) {
    throw invalidRequest('container.skills: skills require the code execution tool to be enabled');
  }
  return model;
}

/** `lastUserText` joins the text of the last user turn; scripted replies key on it. */
export function lastUserText(messages: unknown[]): string {
  const last = [...messages].reverse().find((m) => (m as { role?: unknown } | null)?.role === 'user');
  const content = (last as { content?: unknown } | undefined)?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block) => ((block as { type?: unknown }).type === 'text' ? String((block as { text?: unknown }).text) : '')).join('\n');
}

/** Reported when skills or code execution are in play; a caller's container id is reused. */
function resolveContainer(body: Body, state: StubState, script: Script): Container | null {
  const given = body['container'];
  const givenId = typeof given === 'string' ? given : (given as { id?: unknown } | null | undefined)?.id;
  const skills = containerSkills(body);
  const serverTools = script.blocks.some((b) => b.type === 'server_tool_use');
  if (givenId === undefined && skills.length === 0 && !usesCodeExecution(body) && !serverTools) return null;
  return {
    id: typeof givenId === 'string' ? givenId : newId('container'),
    expires_at: isoAt(30 * DAY_MS),
    skills: skills.length === 0 ? null : skills.map((ref) => resolveSkill(ref, state)),
  };
}

/** `latest` resolves to a concrete version; an unknown custom skill keeps `latest` (lenient). */
function resolveSkill(ref: SkillRef, state: StubState): ContainerSkill {
  const type = String(ref.type ?? 'custom');
  const skillId = String(ref.skill_id ?? '');
  const asked = ref.version === undefined ? 'latest' : String(ref.version);
  if (asked !== 'latest') return { type, skill_id: skillId, version: asked };
  if (type === 'anthropic') return { type, skill_id: skillId, version: ANTHROPIC_SKILL_VERSION };
  const latest = state.skills.find(skillId)?.versions.at(-1);
  return { type, skill_id: skillId, version: latest?.version ?? asked };
}

/** `planReply` validates a create request and returns the scripted turn and its metadata. */
export function planReply(body: Body, state: StubState): { script: Script; meta: ReplyMeta } {
  const model = validateCreate(body);
  const messages = body['messages'] as unknown[];
  const script = scriptFor({
    userText: lastUserText(messages),
    tools: Array.isArray(body['tools']) ? body['tools'] : [],
    echoSecret: state.settings.echoSecret,
    files: state.files,
  });
  const inputTokens = estimateTokens(JSON.stringify([body['system'] ?? '', messages, body['tools'] ?? []]));
  const meta = { id: newId('msg'), model, inputTokens, container: resolveContainer(body, state, script) };
  return { script, meta };
}

async function create(ctx: StubContext): Promise<void> {
  const body = jsonBody(ctx);
  const { script, meta } = planReply(body, ctx.state);
  if (body['stream'] === true) return streamEvents(ctx, toEvents(script, meta));
  sendJson(ctx, 200, toMessage(script, meta));
}

function countTokens(ctx: StubContext): void {
  const body = jsonBody(ctx);
  requireField(body, 'model', 'string');
  requireField(body, 'messages', 'array');
  requireKnownModel(body);
  const counted = JSON.stringify([body['system'] ?? '', body['messages'], body['tools'] ?? []]);
  sendJson(ctx, 200, { input_tokens: estimateTokens(counted) });
}

export const messageRoutes: Route[] = [
  { method: 'POST', path: '/v1/messages', handle: create },
  { method: 'POST', path: '/v1/messages/count_tokens', handle: countTokens },
];
