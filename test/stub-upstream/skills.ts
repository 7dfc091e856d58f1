import type { Route, StubContext } from './context.ts';
import { queryValue } from './context.ts';
import { invalidRequest } from './errors.ts';
import { fieldText } from './multipart.ts';
import { cursorPage } from './pagination.ts';
import { sendBytes, sendJson } from './reply.ts';
import { readSkillUpload } from './skill-upload.ts';
import { skillView, versionView, type StoredSkill } from './skill-store.ts';
import { SKILLS_BETA, resolveSurface, type Surface } from './surface.ts';
import { zipStored } from './zip.ts';

/**
 * Skills API routes (§2): one set of handlers serves both surfaces; `resolveSurface` enforces the
 * mode knob and picks the field names of each reply.
 */
const MAX_TITLE = 255;

function skillOf(ctx: StubContext): StoredSkill {
  return ctx.state.skills.get(ctx.params['skill_id'] ?? '');
}

function versionRef(ctx: StubContext): string {
  return ctx.params['version'] ?? '';
}

function create(ctx: StubContext, surface: Surface): void {
  const draft = readSkillUpload(ctx.parts);
  // Accept either name on either surface: old clients send `display_title`, new ones `display_name`.
  const title = fieldText(ctx.parts ?? [], 'display_name') ?? fieldText(ctx.parts ?? [], 'display_title') ?? draft.name;
  if (title.length > MAX_TITLE) throw invalidRequest(`display_name: at most ${MAX_TITLE} characters`);
  sendJson(ctx, 200, skillView(ctx.state.skills.create(title, draft), surface));
}

function list(ctx: StubContext, surface: Surface): void {
  const source = queryValue(ctx, 'source');
  if (source !== undefined && source !== 'custom' && source !== 'anthropic') {
    throw invalidRequest(`source: Input should be 'custom' or 'anthropic'`);
  }
  const skills = ctx.state.skills.list(source).map((skill) => skillView(skill, surface));
  sendJson(ctx, 200, cursorPage(ctx, skills));
}

function remove(ctx: StubContext): void {
  const skill = skillOf(ctx);
  ctx.state.skills.delete(skill);
  sendJson(ctx, 200, { id: skill.id, type: 'skill_deleted' });
}

function createVersion(ctx: StubContext, surface: Surface): void {
  const skill = skillOf(ctx);
  const version = ctx.state.skills.addVersion(skill, readSkillUpload(ctx.parts));
  sendJson(ctx, 200, versionView(version, surface));
}

function listVersions(ctx: StubContext, surface: Surface): void {
  const versions = [...skillOf(ctx).versions].reverse().map((v) => versionView(v, surface));
  sendJson(ctx, 200, cursorPage(ctx, versions));
}

function removeVersion(ctx: StubContext, surface: Surface): void {
  const skill = skillOf(ctx);
  const version = ctx.state.skills.findVersion(skill, versionRef(ctx));
  ctx.state.skills.deleteVersion(skill, version);
  sendJson(ctx, 200, { id: surface === 'beta' ? version.version : version.id, type: 'skill_version_deleted' });
}

function download(ctx: StubContext): void {
  const version = ctx.state.skills.findVersion(skillOf(ctx), versionRef(ctx));
  sendBytes(ctx, 'application/zip', zipStored(version.files));
}

/** Wraps a handler so every skills route checks the beta gate and knows its surface. */
function gated(handle: (ctx: StubContext, surface: Surface) => void): (ctx: StubContext) => void {
  return (ctx) => handle(ctx, resolveSurface(ctx, SKILLS_BETA));
}

export const skillRoutes: Route[] = [
  { method: 'POST', path: '/v1/skills', handle: gated(create) },
  { method: 'GET', path: '/v1/skills', handle: gated(list) },
  { method: 'GET', path: '/v1/skills/:skill_id', handle: gated((ctx, s) => sendJson(ctx, 200, skillView(skillOf(ctx), s))) },
  { method: 'DELETE', path: '/v1/skills/:skill_id', handle: gated(remove) },
  { method: 'POST', path: '/v1/skills/:skill_id/versions', handle: gated(createVersion) },
  { method: 'GET', path: '/v1/skills/:skill_id/versions', handle: gated(listVersions) },
  {
    method: 'GET',
    path: '/v1/skills/:skill_id/versions/:version',
    handle: gated((ctx, s) => sendJson(ctx, 200, versionView(ctx.state.skills.findVersion(skillOf(ctx), versionRef(ctx)), s))),
  },
  { method: 'DELETE', path: '/v1/skills/:skill_id/versions/:version', handle: gated(removeVersion) },
  { method: 'GET', path: '/v1/skills/:skill_id/versions/:version/content', handle: gated(download) },
];
