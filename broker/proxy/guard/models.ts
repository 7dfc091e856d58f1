import { badField, quote, refuse, type GuardContext } from './context.ts';

/**
 * Model ids as Anthropic spells them (`claude-sonnet-4-5`, `claude-sonnet-4-5-20250929`). Anything
 * else (a NUL, a space, a slash) is refused before matching: a `*` in a policy glob would otherwise
 * admit `claude-sonnet-4-5\u0000…`, which the upstream may read as another name (C-26).
 */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/**
 * `matchGlob` is true when `value` matches `pattern` as a whole: `*` matches any run of
 * characters, `?` one character, everything else itself. No regular expression is built: the
 * one-saved-star walk is O(pattern × value) at worst, whereas `a*a*a*…` as a backtracking regex
 * is exponential on a long caller-chosen model name.
 */
export function matchGlob(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      resume = v;
    } else if (c !== undefined && (c === '?' || c === value[v])) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * `checkModel` enforces `grant.models`: the model (a string id, required where the API requires
 * it) must match one of the policy's globs. An alias (`claude-sonnet-4-5`) and its dated id
 * (`claude-sonnet-4-5-20250929`) are different strings: the glob decides which are allowed.
 */
export function checkModel(model: unknown, ctx: GuardContext, field = 'model'): void {
  if (typeof model !== 'string' || !MODEL_ID.test(model)) throw badField(ctx, field, 'a model id such as "claude-sonnet-4-5"');
  const allowed = ctx.grant.models;
  if (allowed === undefined || allowed.some((glob) => matchGlob(glob, model))) return;
  throw refuse(ctx, 'model_not_allowed', `${field} ${quote(model)}`, `grant.models: ${allowed.join(', ')}`, 'use one of those models or add a matching pattern to grant.models');
}
