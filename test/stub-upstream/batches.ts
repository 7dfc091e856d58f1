import type { Route, StubContext, StubState } from './context.ts';
import { jsonBody } from './context.ts';
import { StubError, errorEnvelope, invalidRequest, notFound } from './errors.ts';
import { DAY_MS, isoAt, newId } from './ids.ts';
import { planReply } from './messages.ts';
import { idPage } from './pagination.ts';
import { sendBytes, sendJson } from './reply.ts';
import { toMessage } from './script.ts';

interface BatchRequest {
  custom_id: string;
  params: Record<string, unknown>;
}

interface StoredBatch {
  id: string;
  status: 'in_progress' | 'canceling' | 'ended';
  requests: BatchRequest[];
  createdAt: string;
  endedAt: string | null;
  cancelInitiatedAt: string | null;
  /** One JSONL result per request, filled when the batch ends. */
  results: { custom_id: string; result: Record<string, unknown> }[];
}

/** `BatchStore` keeps Message Batches in memory; they only end when a test says so. */
export class BatchStore {
  readonly batches: StoredBatch[] = [];

  get(id: string): StoredBatch {
    const batch = this.batches.find((b) => b.id === id);
    if (!batch) throw notFound(`Message batch not found: ${id}`);
    return batch;
  }
}

/**
 * `endBatches` moves every unfinished batch to `ended`, computing results with the same scripted
 * replies as `/v1/messages`. A batch being canceled ends with every request `canceled`.
 */
export function endBatches(state: StubState): void {
  for (const batch of state.batches.batches) {
    if (batch.status === 'ended') continue;
    batch.results = batch.requests.map(({ custom_id, params }) => ({ custom_id, result: resultFor(batch, params, state) }));
    batch.status = 'ended';
    batch.endedAt = isoAt();
  }
}

function resultFor(batch: StoredBatch, params: Record<string, unknown>, state: StubState): Record<string, unknown> {
  if (batch.status === 'canceling') return { type: 'canceled' };
  try {
    const { script, meta } = planReply(params, state);
    return { type: 'succeeded', message: toMessage(script, meta) };
  } catch (error) {
    if (!(error instanceof StubError)) throw error;
    return { type: 'errored', error: errorEnvelope(error, newId('req')) };
  }
}

function counts(batch: StoredBatch) {
  const tally = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  if (batch.status !== 'ended') tally.processing = batch.requests.length;
  for (const { result } of batch.results) {
    const type = result['type'] as 'succeeded' | 'errored' | 'canceled';
    tally[type] += 1;
  }
  return tally;
}

/** `results_url` is absolute and uses the public base, so a proxy that forgets to rewrite it shows. */
function batchView(batch: StoredBatch, state: StubState) {
  const base = state.settings.publicBaseUrl.replace(/\/$/, '');
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: batch.status,
    request_counts: counts(batch),
    created_at: batch.createdAt,
    expires_at: new Date(Date.parse(batch.createdAt) + DAY_MS).toISOString(),
    ended_at: batch.endedAt,
    cancel_initiated_at: batch.cancelInitiatedAt,
    archived_at: null,
    results_url: batch.status === 'ended' ? `${base}/v1/messages/batches/${batch.id}/results` : null,
  };
}

function create(ctx: StubContext): void {
  const requests = jsonBody(ctx)['requests'];
  if (!Array.isArray(requests) || requests.length === 0) throw invalidRequest('requests: Field required');
  for (const [i, request] of requests.entries()) {
    const { custom_id, params } = (request ?? {}) as Partial<BatchRequest>;
    if (typeof custom_id !== 'string' || typeof params !== 'object' || params === null) {
      throw invalidRequest(`requests.${i}: custom_id and params are required`);
    }
  }
  const batch: StoredBatch = {
    id: newId('msgbatch'),
    status: 'in_progress',
    requests: requests as BatchRequest[],
    createdAt: isoAt(),
    endedAt: null,
    cancelInitiatedAt: null,
    results: [],
  };
  ctx.state.batches.batches.unshift(batch);
  sendJson(ctx, 200, batchView(batch, ctx.state));
}

function batchOf(ctx: StubContext): StoredBatch {
  return ctx.state.batches.get(ctx.params['batch_id'] ?? '');
}

export const batchRoutes: Route[] = [
  { method: 'POST', path: '/v1/messages/batches', handle: create },
  {
    method: 'GET',
    path: '/v1/messages/batches',
    handle: (ctx) => sendJson(ctx, 200, idPage(ctx, ctx.state.batches.batches.map((b) => batchView(b, ctx.state)), 20, 1000)),
  },
  { method: 'GET', path: '/v1/messages/batches/:batch_id', handle: (ctx) => sendJson(ctx, 200, batchView(batchOf(ctx), ctx.state)) },
  {
    method: 'POST',
    path: '/v1/messages/batches/:batch_id/cancel',
    handle: (ctx) => {
      const batch = batchOf(ctx);
      if (batch.status === 'in_progress') {
        batch.status = 'canceling';
        batch.cancelInitiatedAt = isoAt();
      }
      sendJson(ctx, 200, batchView(batch, ctx.state));
    },
  },
  {
    method: 'DELETE',
    path: '/v1/messages/batches/:batch_id',
    handle: (ctx) => {
      const batch = batchOf(ctx);
      if (batch.status !== 'ended') throw invalidRequest('Message batches can only be deleted once they have finished processing');
      ctx.state.batches.batches.splice(ctx.state.batches.batches.indexOf(batch), 1);
      sendJson(ctx, 200, { id: batch.id, type: 'message_batch_deleted' });
    },
  },
  {
    method: 'GET',
    path: '/v1/messages/batches/:batch_id/results',
    handle: (ctx) => {
      const batch = batchOf(ctx);
      if (batch.status !== 'ended') throw invalidRequest('Message batch results are not available until processing has ended');
      const lines = batch.results.map((line) => JSON.stringify(line)).join('\n');
      sendBytes(ctx, 'application/x-jsonl', Buffer.from(`${lines}\n`, 'utf8'));
    },
  },
];
