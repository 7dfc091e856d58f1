import type { ClassifiedRequest } from '../proxy/operation.ts';

export const COUNTERS = ['requests', 'inputTokens', 'outputTokens'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;

/** What a request holds: the sum over its items, and its largest item per counter. */
export interface Need {
  total: Counts;
  largest: Counts;
}

/** Input tokens are only known once upstream has counted them; until then a body holds bytes / 4. */
const BYTES_PER_INPUT_TOKEN = 4;

/**
 * `measureNeed` returns what a guarded request would spend at most, or undefined for requests that
 * are not model calls (listing models, skills, files, batch reads: no budget applies).
 * `count_tokens` is a request that costs no tokens; a batch is the sum of its items.
 */
export function measureNeed(route: ClassifiedRequest, body: Record<string, unknown> | undefined): Need | undefined {
  switch (route.route) {
    case 'POST /v1/messages':
      return body && combine([messageNeed(body)]);
    case 'POST /v1/messages/count_tokens':
      return combine([{ requests: 1, inputTokens: 0, outputTokens: 0 }]);
    case 'POST /v1/messages/batches': {
      const items = Array.isArray(body?.['requests']) ? (body['requests'] as unknown[]) : [];
      return combine(items.map((item) => messageNeed(paramsOf(item))));
    }
    default:
      return undefined;
  }
}

function paramsOf(item: unknown): Record<string, unknown> {
  const params = isObject(item) ? item['params'] : undefined;
  return isObject(params) ? params : {};
}

/** One Messages call: output is held at the largest `max_tokens` it or any of its fallbacks may use. */
function messageNeed(params: Record<string, unknown>): Counts {
  const fallbacks = Array.isArray(params['fallbacks']) ? params['fallbacks'] : [];
  const maxTokens = Math.max(positive(params['max_tokens']), ...fallbacks.map((f: unknown) => positive(isObject(f) ? f['max_tokens'] : undefined)));
  const inputTokens = Math.ceil(Buffer.byteLength(JSON.stringify(params)) / BYTES_PER_INPUT_TOKEN);
  return { requests: 1, inputTokens, outputTokens: maxTokens };
}

function combine(items: Counts[]): Need {
  const total = { requests: 0, inputTokens: 0, outputTokens: 0 };
  const largest = { ...total };
  for (const item of items) {
    for (const c of COUNTERS) {
      total[c] += item[c];
      largest[c] = Math.max(largest[c], item[c]);
    }
  }
  return { total, largest };
}

const positive = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
