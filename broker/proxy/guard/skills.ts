import { invalidProxyRequest } from '../proxy-error.ts';
import { badField, isObject, onlyKnownKeys, quote, refuse, type GuardContext } from './context.ts';
import { toolAllowed, toolRule } from './tools.ts';

/** Anthropic's limit on skills per request (reference §3.3). */
export const MAX_SKILLS = 8;

const CONTAINER_FIELDS: ReadonlySet<string> = new Set(['id', 'skills']);
const SKILL_FIELDS: ReadonlySet<string> = new Set(['type', 'skill_id', 'version']);

/**
 * `checkContainer` enforces the Skill allowlist on `container`:
 * - any container (a bare id to reuse, or `{id?, skills?}`) is code execution's sandbox, so it
 *   needs `grant.tools.code_execution: allow` (403 `code_execution_required`); a reused id would
 *   otherwise reach files another job left there;
 * - at most 8 skills (400 `too_many_skills`), each `{type: anthropic|custom, skill_id, version?}`;
 * - each skill must be listed in `grant.skills` (403 `skill_not_allowed`): `id` allows any
 *   version, `id@version` pins it, and a pinned skill must name one of its pinned versions
 *   (`latest` or no version would follow whatever is uploaded next).
 */
export function checkContainer(container: unknown, ctx: GuardContext): void {
  if (container === undefined || container === null) return;
  if (typeof container !== 'string') {
    if (!isObject(container)) throw badField(ctx, 'container', 'a container id or {id?, skills?}');
    onlyKnownKeys(container, CONTAINER_FIELDS, ctx, 'container.');
    const id = container['id'];
    if (id !== undefined && id !== null && typeof id !== 'string') throw badField(ctx, 'container.id', 'a string');
    checkSkills(container['skills'], ctx);
  }
  if (!toolAllowed(ctx.grant, 'code_execution')) {
    throw refuse(
      ctx,
      'code_execution_required',
      'container (Skills and containers run in Anthropic-hosted code execution)',
      toolRule(ctx.grant, 'code_execution'),
      'set tools.code_execution: allow in the grant to use Skills (client-side bash or text_editor do not count)',
    );
  }
}

function checkSkills(skills: unknown, ctx: GuardContext): void {
  if (skills === undefined || skills === null) return;
  if (!Array.isArray(skills)) throw badField(ctx, 'container.skills', 'an array');
  if (skills.length > MAX_SKILLS) {
    throw invalidProxyRequest('too_many_skills', `${ctx.at}container.skills lists ${skills.length} skills; at most ${MAX_SKILLS} are allowed per request`);
  }
  const allowed = parseGrantSkills(ctx.grant.skills ?? []);
  skills.forEach((skill: unknown, i) => {
    const at = `container.skills[${i}]`;
    if (!isObject(skill)) throw badField(ctx, at, 'an object {type, skill_id, version?}');
    onlyKnownKeys(skill, SKILL_FIELDS, ctx, `${at}.`);
    const { type, skill_id: id, version } = skill;
    if (type !== 'anthropic' && type !== 'custom') throw badField(ctx, `${at}.type`, '"anthropic" or "custom"');
    if (typeof id !== 'string' || id === '') throw badField(ctx, `${at}.skill_id`, 'a non-empty string');
    if (version !== undefined && (typeof version !== 'string' || version === '')) throw badField(ctx, `${at}.version`, 'a non-empty string');
    checkSkillAllowed(id, version, allowed, ctx, at);
  });
}

/** `id` → undefined (any version) or the pinned versions. */
function parseGrantSkills(entries: string[]): Map<string, Set<string> | undefined> {
  const allowed = new Map<string, Set<string> | undefined>();
  for (const entry of entries) {
    const at = entry.indexOf('@');
    const id = at < 0 ? entry : entry.slice(0, at);
    if (at < 0) {
      allowed.set(id, undefined);
    } else if (!allowed.has(id) || allowed.get(id) !== undefined) {
      allowed.set(id, (allowed.get(id) ?? new Set()).add(entry.slice(at + 1)));
    }
  }
  return allowed;
}

function checkSkillAllowed(id: string, version: string | undefined, allowed: Map<string, Set<string> | undefined>, ctx: GuardContext, at: string): void {
  const listed = ctx.grant.skills ?? [];
  if (!allowed.has(id)) {
    throw refuse(
      ctx,
      'skill_not_allowed',
      `${at} skill ${quote(id)}`,
      listed.length === 0 ? 'grant.skills is empty or unset' : `grant.skills: ${listed.join(', ')}`,
      `add ${id} (any version) or ${id}@<version> (pinned) to grant.skills`,
    );
  }
  const pinned = allowed.get(id);
  if (pinned === undefined || (version !== undefined && pinned.has(version))) return;
  throw refuse(
    ctx,
    'skill_not_allowed',
    `${at} skill ${quote(id)} at version ${quote(version ?? 'latest')}`,
    `grant.skills pins ${id} to ${[...pinned].join(', ')}`,
    `send version ${[...pinned].map((v) => `"${v}"`).join(' or ')}, or list ${id} without @version to allow any version`,
  );
}
