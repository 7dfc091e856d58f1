/**
 * Admin API (§4.1, §8): organisation, users, workspaces and API keys, for the key reconciler.
 * Only admin keys reach these routes (`auth.ts`); the usage and cost reports are in
 * `admin-usage.ts`. Lists use the `Page` shape: `limit` (default 20, at most 1000), `after_id`,
 * `before_id` → `{data, first_id, last_id, has_more}`, oldest first.
 */
import type { AdminApiKey, AdminStore } from './admin-store.ts';
import { usageRoutes } from './admin-usage.ts';
import type { Route, StubContext } from './context.ts';
import { jsonBody, queryList, queryValue } from './context.ts';
import { invalidRequest, notFound } from './errors.ts';
import { idPage } from './pagination.ts';
import { sendJson } from './reply.ts';

const ASSIGNABLE_ROLES = ['user', 'developer', 'billing', 'claude_code_user'];

const page = <T extends { id: string }>(ctx: StubContext, items: readonly T[]) => idPage(ctx, items, 20, 1000);
const param = (ctx: StubContext, name: string) => ctx.params[name] ?? '';

/** `apiKeyView` renders a key in the shape the stub's `keyShape` knob selects (§4.2). */
function apiKeyView(store: AdminStore, key: AdminApiKey) {
  const common = {
    id: key.id,
    type: 'api_key',
    name: key.name,
    created_at: key.createdAt,
    created_by: key.createdBy,
    expires_at: key.expiresAt,
    partial_key_hint: key.partialKeyHint,
    status: key.status,
  };
  if (store.keyShape === 'classic') return { ...common, workspace_id: key.workspaceId };
  // The 2026 shape names the default workspace by its real id and drops `workspace_id`.
  const workspaceId = key.workspaceId ?? store.seed.workspaces.default;
  return { ...common, principal: key.principal, scope: { type: 'workspace', workspace_id: workspaceId } };
}

function listApiKeys(ctx: StubContext): void {
  const store = ctx.state.admin;
  const status = queryValue(ctx, 'status');
  const workspace = queryValue(ctx, 'workspace_id');
  const creator = queryValue(ctx, 'created_by_user_id');
  if (status !== undefined && !['active', 'inactive', 'archived', 'expired'].includes(status)) {
    throw invalidRequest("status: Input should be 'active', 'inactive', 'archived' or 'expired'");
  }
  const keys = store.apiKeys.filter(
    (key) =>
      (status === undefined || key.status === status) &&
      (workspace === undefined || (key.workspaceId ?? store.seed.workspaces.default) === workspace) &&
      (creator === undefined || (key.createdBy?.type === 'user' && key.createdBy.id === creator)),
  );
  const result = page(ctx, keys);
  sendJson(ctx, 200, { ...result, data: result.data.map((key) => apiKeyView(store, key)) });
}

function updateApiKey(ctx: StubContext): void {
  const store = ctx.state.admin;
  const body = jsonBody(ctx);
  const key = store.apiKey(param(ctx, 'api_key_id'));
  if (body['name'] !== undefined && (typeof body['name'] !== 'string' || body['name'] === '')) {
    throw invalidRequest('name: Input should be a valid string');
  }
  if (body['status'] !== undefined) store.setStatus(key.id, body['status']);
  if (typeof body['name'] === 'string') key.name = body['name'];
  sendJson(ctx, 200, apiKeyView(store, key));
}

function listUsers(ctx: StubContext): void {
  const email = queryValue(ctx, 'email')?.toLowerCase();
  const roles = queryList(ctx, 'roles');
  const users = ctx.state.admin.users.filter(
    (user) => (email === undefined || user.email.toLowerCase() === email) && (roles.length === 0 || roles.includes(user.role)),
  );
  sendJson(ctx, 200, page(ctx, users));
}

function updateUser(ctx: StubContext): void {
  const user = ctx.state.admin.user(param(ctx, 'user_id'));
  const role = jsonBody(ctx)['role'];
  if (typeof role !== 'string' || !ASSIGNABLE_ROLES.includes(role)) {
    throw invalidRequest(`role: Input should be ${ASSIGNABLE_ROLES.map((r) => `'${r}'`).join(', ')}`);
  }
  user.role = role as typeof user.role;
  sendJson(ctx, 200, user);
}

function deleteUser(ctx: StubContext): void {
  const id = param(ctx, 'user_id');
  ctx.state.admin.deleteUser(id);
  sendJson(ctx, 200, { id, type: 'user_deleted' });
}

function workspaceView(workspace: AdminStore['workspaces'][number]) {
  return { ...workspace, type: 'workspace', display_color: '#6C5BB9' };
}

function listWorkspaces(ctx: StubContext): void {
  const includeArchived = queryValue(ctx, 'include_archived') === 'true';
  const workspaces = ctx.state.admin.workspaces.filter((w) => includeArchived || w.archived_at === null);
  const result = page(ctx, workspaces);
  sendJson(ctx, 200, { ...result, data: result.data.map(workspaceView) });
}

function getWorkspace(ctx: StubContext): void {
  const id = param(ctx, 'workspace_id');
  const workspace = ctx.state.admin.workspaces.find((w) => w.id === id);
  if (!workspace) throw notFound(`Workspace not found: ${id}`);
  sendJson(ctx, 200, workspaceView(workspace));
}

export const adminRoutes: Route[] = [
  { method: 'GET', path: '/v1/organizations/me', handle: (ctx) => sendJson(ctx, 200, ctx.state.admin.organization) },
  { method: 'GET', path: '/v1/organizations/users', handle: listUsers },
  { method: 'GET', path: '/v1/organizations/users/:user_id', handle: (ctx) => sendJson(ctx, 200, ctx.state.admin.user(param(ctx, 'user_id'))) },
  { method: 'POST', path: '/v1/organizations/users/:user_id', handle: updateUser },
  { method: 'DELETE', path: '/v1/organizations/users/:user_id', handle: deleteUser },
  { method: 'GET', path: '/v1/organizations/workspaces', handle: listWorkspaces },
  { method: 'GET', path: '/v1/organizations/workspaces/:workspace_id', handle: getWorkspace },
  { method: 'GET', path: '/v1/organizations/api_keys', handle: listApiKeys },
  {
    method: 'GET',
    path: '/v1/organizations/api_keys/:api_key_id',
    handle: (ctx) => sendJson(ctx, 200, apiKeyView(ctx.state.admin, ctx.state.admin.apiKey(param(ctx, 'api_key_id')))),
  },
  { method: 'POST', path: '/v1/organizations/api_keys/:api_key_id', handle: updateApiKey },
  ...usageRoutes,
];
