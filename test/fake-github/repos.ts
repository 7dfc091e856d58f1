/**
 * Repositories, reached by name (`/repos/{owner}/{repo}/…`) or by id (`/repositories/{id}/…`),
 * with the sub-resources in `issues.ts`.
 *
 * A transferred repository behaves as on GitHub: its id path shows the new owner, and its old
 * name answers a redirect to `/repositories/{id}/…` — 301 for GET and HEAD, 307 for writes so the
 * method and body are repeated — which fetch-based clients such as octokit follow. A deleted
 * repository is 404 under both paths.
 */
import { issueRoutes, type RepoRoute } from './issues.ts';
import { GithubError, notFound, sendJson, type GithubContext, type GithubRoute } from './reply.ts';
import { repoView } from './shapes.ts';
import type { Repo } from './state.ts';

const REDIRECT_DOCS = 'https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects';

const repoSubRoutes: RepoRoute[] = [
  { method: 'GET', pattern: /^$/, handle: (ctx, repo) => sendJson(ctx, 200, repoView(ctx.base, repo, ctx.state.org(repo.owner.login) !== undefined)) },
  ...issueRoutes,
];

function dispatch(ctx: GithubContext, repo: Repo, rest: string): void {
  for (const route of repoSubRoutes) {
    const match = route.pattern.exec(rest);
    if (match && route.method === ctx.method) return route.handle(ctx, repo, match.slice(1).map((p) => decodeURIComponent(p ?? '')));
  }
  throw notFound();
}

function redirect(ctx: GithubContext, repo: Repo, rest: string): void {
  const search = ctx.query.size > 0 ? `?${ctx.query.toString()}` : '';
  const location = `${ctx.base}/repositories/${repo.id}${rest}${search}`;
  const status = ctx.method === 'GET' || ctx.method === 'HEAD' ? 301 : 307;
  const message = status === 301 ? 'Moved Permanently' : 'Temporary Redirect';
  throw new GithubError(status, message, { location }, { url: location }, REDIRECT_DOCS);
}

export const repoRoutes: GithubRoute[] = [
  {
    method: '*',
    pattern: /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/,
    handle: (ctx, [owner = '', name = '', rest = '']) => {
      const found = ctx.state.repoByName(owner, name);
      if (!found) throw notFound();
      if (found.moved) return redirect(ctx, found.repo, rest);
      dispatch(ctx, found.repo, rest);
    },
  },
  {
    method: '*',
    pattern: /^\/repositories\/(\d+)(\/.*)?$/,
    handle: (ctx, [id = '', rest = '']) => {
      const repo = ctx.state.repos.get(Number(id));
      if (!repo) throw notFound();
      dispatch(ctx, repo, rest);
    },
  },
];
