/** Organisation membership: the reconciler's "is this actor still one of us?" question. */
import { GithubError, notFound, sendJson, sendPage, type GithubContext, type GithubRoute } from './reply.ts';
import { accountView, orgView } from './shapes.ts';
import type { Org } from './state.ts';

function requireOrg(ctx: GithubContext, login: string): Org {
  const org = ctx.state.org(login);
  if (!org) throw notFound();
  return org;
}

/**
 * `GET /orgs/{org}/members`. GitHub's `Link` header names the organisation by id
 * (`/organizations/{id}/members?…&page=2`), so that path is served too and pagination follows it.
 */
function listMembers(ctx: GithubContext, org: Org): void {
  const role = ctx.query.get('role') ?? 'all';
  if (!['all', 'admin', 'member'].includes(role)) {
    throw new GithubError(422, 'Validation Failed', {}, { errors: [{ resource: 'Member', field: 'role', code: 'invalid' }] });
  }
  const all = [...org.members.values()];
  const members = role === 'all' ? all : all.filter((m) => m.role === role);
  sendPage(ctx, members, (m) => accountView(ctx.base, m), `/organizations/${org.id}/members`);
}

function membership(ctx: GithubContext, org: Org, username: string): void {
  const member = org.members.get(username.toLowerCase());
  if (!member) throw notFound();
  sendJson(ctx, 200, {
    url: `${ctx.base}/orgs/${org.login}/memberships/${member.login}`,
    state: 'active',
    role: member.role,
    organization_url: `${ctx.base}/orgs/${org.login}`,
    organization: orgView(ctx.base, org),
    user: accountView(ctx.base, member),
  });
}

export const orgRoutes: GithubRoute[] = [
  { method: 'GET', pattern: /^\/orgs\/([^/]+)\/members$/, handle: (ctx, [org = '']) => listMembers(ctx, requireOrg(ctx, org)) },
  {
    method: 'GET',
    pattern: /^\/organizations\/(\d+)\/members$/,
    handle: (ctx, [id = '']) => {
      const org = ctx.state.orgById(Number(id));
      if (!org) throw notFound();
      listMembers(ctx, org);
    },
  },
  {
    method: 'GET',
    pattern: /^\/orgs\/([^/]+)\/memberships\/([^/]+)$/,
    handle: (ctx, [org = '', username = '']) => membership(ctx, requireOrg(ctx, org), username),
  },
];
