import type { StubContext } from './context.ts';
import { queryValue } from './context.ts';
import { invalidRequest } from './errors.ts';

/**
 * Skills and Files exist twice (§2): the legacy beta surface (`?beta=true`, field names such as
 * `display_title`, `latest_version`) and the GA surface (`display_name`, `latest_version_id`).
 * SDK 1.x `client.beta.*` sends no `?beta=true` and expects GA names, so the query flag, not the
 * header, picks the shape.
 */
export type Surface = 'beta' | 'ga';

export const SKILLS_BETA = 'skills-2025-10-02';
export const FILES_BETA = 'files-api-2025-04-14';

/** `betaValues` returns every `anthropic-beta` value, whether sent as a comma list or repeated. */
export function betaValues(ctx: StubContext): string[] {
  const raw = ctx.record.headers['anthropic-beta'];
  const headers = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return headers.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
}

/**
 * `resolveSurface` enforces the mode knob and returns the shape to answer with:
 * - `beta`: the feature's beta value must be in `anthropic-beta`, else 400 (pre-GA upstream);
 * - `ga`: the legacy field names are gone, `?beta=true` is ignored (post-beta upstream);
 * - `both`: today's API; `?beta=true` selects the legacy names.
 */
export function resolveSurface(ctx: StubContext, requiredBeta: string): Surface {
  const { mode } = ctx.state.settings;
  if (mode === 'beta' && !betaValues(ctx).includes(requiredBeta)) {
    throw invalidRequest(`This endpoint requires the anthropic-beta header to include "${requiredBeta}"`);
  }
  if (mode === 'ga') return 'ga';
  return queryValue(ctx, 'beta') === 'true' ? 'beta' : 'ga';
}
