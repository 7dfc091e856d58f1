import type { SseEvent } from './sse.ts';

/**
 * A scripted assistant turn, written once and rendered two ways: as a Message (§3.4) or as the
 * SSE event sequence (§3.5). Text and tool input are stored as the delta pieces a stream sends,
 * so the JSON reply is exactly the concatenation of what the stream carries.
 */
export type ScriptBlock =
  | { type: 'text'; chunks: string[] }
  | { type: 'tool_use' | 'server_tool_use'; id: string; name: string; input: unknown; chunks: string[] }
  /** A block that arrives whole in `content_block_start` (server tool results). */
  | { type: 'whole'; block: Record<string, unknown> };

export type StopReason = 'end_turn' | 'tool_use' | 'pause_turn' | 'refusal' | 'max_tokens';

export interface Script {
  blocks: ScriptBlock[];
  stopReason: StopReason;
}

export interface ContainerSkill {
  type: string;
  skill_id: string;
  version: string;
}

export interface Container {
  id: string;
  expires_at: string;
  skills: ContainerSkill[] | null;
}

export interface ReplyMeta {
  id: string;
  model: string;
  inputTokens: number;
  container: Container | null;
}

/** `estimateTokens` is the stub's deterministic length-based token count (4 chars ≈ 1 token). */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function outputTokens(script: Script): number {
  const text = script.blocks.map((b) => (b.type === 'whole' ? JSON.stringify(b.block) : b.chunks.join('')));
  return estimateTokens(text.join(''));
}

function usage(meta: ReplyMeta, output: number) {
  return {
    input_tokens: meta.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    inference_geo: null,
  };
}

function completeBlock(block: ScriptBlock): Record<string, unknown> {
  if (block.type === 'whole') return block.block;
  if (block.type === 'text') return { type: 'text', text: block.chunks.join(''), citations: null };
  return { type: block.type, id: block.id, name: block.name, input: block.input };
}

/** `toMessage` renders the non-streaming reply. */
export function toMessage(script: Script, meta: ReplyMeta) {
  return {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content: script.blocks.map(completeBlock),
    stop_reason: script.stopReason,
    stop_sequence: null,
    stop_details: null,
    container: meta.container,
    usage: usage(meta, outputTokens(script)),
  };
}

function startBlock(block: ScriptBlock): Record<string, unknown> {
  if (block.type === 'whole') return block.block;
  if (block.type === 'text') return { type: 'text', text: '' };
  return { type: block.type, id: block.id, name: block.name, input: {} };
}

function deltaEvents(block: ScriptBlock, index: number): SseEvent[] {
  if (block.type === 'whole') return [];
  return block.chunks.map((piece) => ({
    event: 'content_block_delta',
    data: {
      type: 'content_block_delta',
      index,
      delta: block.type === 'text' ? { type: 'text_delta', text: piece } : { type: 'input_json_delta', partial_json: piece },
    },
  }));
}

/**
 * `toEvents` renders the stream: `message_start`, per block start / deltas / stop (with a `ping`
 * after the first start), one `message_delta` with cumulative usage and the container, then
 * `message_stop`.
 */
export function toEvents(script: Script, meta: ReplyMeta): SseEvent[] {
  const start = { ...toMessage(script, meta), content: [], stop_reason: null, container: null };
  const events: SseEvent[] = [
    { event: 'message_start', data: { type: 'message_start', message: { ...start, usage: usage(meta, 1) } } },
  ];
  for (const [index, block] of script.blocks.entries()) {
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: startBlock(block) } });
    if (index === 0) events.push({ event: 'ping', data: '{"type": "ping"}' });
    events.push(...deltaEvents(block, index));
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  }
  const delta = { stop_reason: script.stopReason, stop_sequence: null, ...(meta.container ? { container: meta.container } : {}) };
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta, usage: usage(meta, outputTokens(script)) } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}
