import type { Route } from './context.ts';
import { notFound } from './errors.ts';
import { idPage } from './pagination.ts';
import { sendJson } from './reply.ts';

export interface StubModel {
  id: string;
  display_name: string;
  created_at: string;
  /** Undated names the Messages API also accepts for this model. */
  aliases: string[];
}

/** The stub's model list: newest first, as the API lists them. Ids come from the SDK 1.14 enum. */
export const MODELS: readonly StubModel[] = [
  { id: 'claude-opus-5', display_name: 'Claude Opus 5', created_at: '2026-09-01T00:00:00Z', aliases: [] },
  { id: 'claude-sonnet-5', display_name: 'Claude Sonnet 5', created_at: '2026-09-01T00:00:00Z', aliases: [] },
  { id: 'claude-opus-4-8', display_name: 'Claude Opus 4.8', created_at: '2026-06-01T00:00:00Z', aliases: [] },
  { id: 'claude-opus-4-7', display_name: 'Claude Opus 4.7', created_at: '2026-04-01T00:00:00Z', aliases: [] },
  { id: 'claude-opus-4-6', display_name: 'Claude Opus 4.6', created_at: '2026-02-01T00:00:00Z', aliases: [] },
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-02-01T00:00:00Z', aliases: [] },
  { id: 'claude-opus-4-5-20251101', display_name: 'Claude Opus 4.5', created_at: '2025-11-01T00:00:00Z', aliases: ['claude-opus-4-5'] },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z', aliases: ['claude-haiku-4-5'] },
  { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z', aliases: ['claude-sonnet-4-5'] },
];

/** `findModel` resolves a model id or alias; `undefined` means the API would answer 404. */
export function findModel(name: string): StubModel | undefined {
  return MODELS.find((model) => model.id === name || model.aliases.includes(name));
}

function modelInfo(model: StubModel) {
  return {
    type: 'model',
    id: model.id,
    display_name: model.display_name,
    created_at: model.created_at,
    capabilities: null,
    deprecated_at: null,
    lifecycle: 'active',
    line: null,
    max_input_tokens: 200_000,
    max_tokens: 64_000,
    retires_at: null,
  };
}

export const modelRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v1/models',
    // Claude Code's discovery asks for `limit=1000`, so the cap is 1000, not 100.
    handle: (ctx) => sendJson(ctx, 200, idPage(ctx, MODELS.map(modelInfo), 20, 1000)),
  },
  {
    method: 'GET',
    path: '/v1/models/:model_id',
    handle: (ctx) => {
      const model = findModel(ctx.params['model_id'] ?? '');
      if (!model) throw notFound(`model: ${ctx.params['model_id']}`);
      sendJson(ctx, 200, modelInfo(model));
    },
  },
];
