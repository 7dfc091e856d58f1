import type { Usage } from '../budgets/budget-gate.ts';

const TAIL_BYTES = 16 * 1024;

/**
 * A bounded copy of what the caller received: the first `limit` bytes (the transcript a replay
 * shows) and the last 16 KiB (where a stream's final usage lives), never more in memory.
 */
export function createCapture(limit: number) {
  const head: Buffer[] = [];
  let headSize = 0;
  // The tail is a queue of recent chunks trimmed from the front, so a chunk is never copied twice.
  const tail: Buffer[] = [];
  let tailSize = 0;
  let total = 0;
  return {
    add(chunk: Buffer) {
      if (chunk.length === 0) return;
      total += chunk.length;
      if (headSize < limit) {
        const part = chunk.subarray(0, limit - headSize);
        head.push(part);
        headSize += part.length;
      }
      tail.push(chunk);
      tailSize += chunk.length;
      while (tail.length > 1 && tailSize - tail[0]!.length >= TAIL_BYTES) tailSize -= tail.shift()!.length;
    },
    text() {
      return { head: Buffer.concat(head).toString('utf8'), tail: Buffer.concat(tail).subarray(-TAIL_BYTES).toString('utf8'), truncated: total > limit };
    },
  };
}

/** Usage of a stream: input tokens from `message_start`, cumulative output tokens from the last `message_delta`. */
export function usageFromSse(head: string, tail: string): Usage | undefined {
  const start = lastEventData(head, 'message_start') as { message?: { usage?: AnthropicUsage } } | undefined;
  const delta = lastEventData(tail, 'message_delta') ?? lastEventData(head, 'message_delta');
  const input = start?.message?.usage && inputTokens(start.message.usage);
  const output = (delta as { usage?: { output_tokens?: number } } | undefined)?.usage?.output_tokens;
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

/** Usage of a non-streaming message body. */
export function usageFromMessage(body: Buffer): Usage | undefined {
  try {
    const usage = (JSON.parse(body.toString('utf8')) as { usage?: AnthropicUsage }).usage;
    if (!usage) return undefined;
    return { inputTokens: inputTokens(usage), outputTokens: usage.output_tokens ?? 0 };
  } catch {
    return undefined;
  }
}

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Cached prompt tokens are input too: leaving them out would let prompt caching slip past the input budget. */
function inputTokens(u: AnthropicUsage): number {
  return (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
}

function lastEventData(text: string, type: string): unknown {
  const at = Math.max(text.lastIndexOf(`"type":"${type}"`), text.lastIndexOf(`"type": "${type}"`));
  if (at === -1) return undefined;
  const lineStart = text.lastIndexOf('\n', at) + 1;
  const lineEnd = text.indexOf('\n', at);
  const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  if (!line.startsWith('data:')) return undefined;
  try {
    return JSON.parse(line.slice(5));
  } catch {
    return undefined;
  }
}
