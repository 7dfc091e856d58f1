/**
 * Issues and comments: where the reconciler files its revocation reports. Lists filter by
 * `state` (default `open`) and `labels` (comma-separated, all must match) and come newest first,
 * GitHub's default `sort=created&direction=desc`.
 */
import { GithubError, notFound, sendJson, sendPage, type GithubContext } from './reply.ts';
import { commentView, issueView } from './shapes.ts';
import type { Issue, Repo } from './state.ts';

/** A route below a repository; `pattern` matches the rest of the path after the repository. */
export interface RepoRoute {
  method: string;
  pattern: RegExp;
  handle(ctx: GithubContext, repo: Repo, params: string[]): void;
}

function requireWritable(repo: Repo): void {
  if (repo.archived) throw new GithubError(403, 'Repository was archived so is read-only.');
}

function requireIssue(ctx: GithubContext, repo: Repo, number: string): Issue {
  const issue = ctx.state.issuesOf(repo.id)[Number(number) - 1];
  if (!issue) throw notFound();
  return issue;
}

function invalid(field: string, code: 'missing_field' | 'invalid'): GithubError {
  return new GithubError(422, 'Validation Failed', {}, { errors: [{ resource: 'Issue', code, field }] });
}

function labelNames(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('labels', 'invalid');
  return value.map((label: unknown) => {
    const name = typeof label === 'string' ? label : (label as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') throw invalid('labels', 'invalid');
    return name;
  });
}

function listIssues(ctx: GithubContext, repo: Repo): void {
  const state = ctx.query.get('state') ?? 'open';
  const wanted = (ctx.query.get('labels') ?? '').split(',').map((l) => l.trim().toLowerCase()).filter(Boolean);
  const issues = ctx.state
    .issuesOf(repo.id)
    .filter((issue) => state === 'all' || issue.state === state)
    .filter((issue) => wanted.every((w) => issue.labels.some((l) => l.toLowerCase() === w)))
    .reverse();
  sendPage(ctx, issues, (issue) => issueView(ctx.base, repo, issue));
}

function createIssue(ctx: GithubContext, repo: Repo): void {
  requireWritable(repo);
  const { title, body } = ctx.body;
  if (typeof title !== 'string' || title === '') throw invalid('title', 'missing_field');
  const issue = ctx.state.addIssue(repo.id, { title, body: typeof body === 'string' ? body : null, labels: labelNames(ctx.body['labels']) });
  sendJson(ctx, 201, issueView(ctx.base, repo, issue), { location: `${ctx.base}/repos/${repo.owner.login}/${repo.name}/issues/${issue.number}` });
}

function updateIssue(ctx: GithubContext, repo: Repo, number: string): void {
  requireWritable(repo);
  const issue = requireIssue(ctx, repo, number);
  const { title, body, state } = ctx.body;
  if (title !== undefined && (typeof title !== 'string' || title === '')) throw invalid('title', 'invalid');
  if (state !== undefined && state !== 'open' && state !== 'closed') throw invalid('state', 'invalid');
  if (typeof title === 'string') issue.title = title;
  if (body !== undefined) issue.body = typeof body === 'string' ? body : null;
  if (state !== undefined) issue.state = state;
  if (ctx.body['labels'] !== undefined) issue.labels = labelNames(ctx.body['labels']);
  issue.updatedAt = new Date().toISOString();
  sendJson(ctx, 200, issueView(ctx.base, repo, issue));
}

function addComment(ctx: GithubContext, repo: Repo, number: string): void {
  requireWritable(repo);
  const issue = requireIssue(ctx, repo, number);
  const body = ctx.body['body'];
  if (typeof body !== 'string' || body === '') {
    throw new GithubError(422, 'Validation Failed', {}, { errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }] });
  }
  sendJson(ctx, 201, commentView(ctx.base, repo, issue, ctx.state.addComment(issue, body)));
}

export const issueRoutes: RepoRoute[] = [
  { method: 'GET', pattern: /^\/issues$/, handle: listIssues },
  { method: 'POST', pattern: /^\/issues$/, handle: createIssue },
  { method: 'GET', pattern: /^\/issues\/(\d+)$/, handle: (ctx, repo, [n = '']) => sendJson(ctx, 200, issueView(ctx.base, repo, requireIssue(ctx, repo, n))) },
  { method: 'PATCH', pattern: /^\/issues\/(\d+)$/, handle: (ctx, repo, [n = '']) => updateIssue(ctx, repo, n) },
  {
    method: 'GET',
    pattern: /^\/issues\/(\d+)\/comments$/,
    handle: (ctx, repo, [n = '']) => {
      const issue = requireIssue(ctx, repo, n);
      sendPage(ctx, issue.comments, (c) => commentView(ctx.base, repo, issue, c));
    },
  },
  { method: 'POST', pattern: /^\/issues\/(\d+)\/comments$/, handle: (ctx, repo, [n = '']) => addComment(ctx, repo, n) },
];
