/**
 * The JSON GitHub answers with, trimmed to the fields a client of these endpoints reads (plus the
 * ids and urls that make a response look real). Field names follow the REST API docs.
 */
import type { Account, Issue, IssueComment, Org, Repo } from './state.ts';

/** The account the fake's token belongs to: issues and comments are authored by it. */
export const TOKEN_OWNER = { login: 'skillgate[bot]', id: 9_000_001, type: 'Bot' } as const;

function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`, 'utf8').toString('base64');
}

/** `accountView` is GitHub's `simple-user`; `type` tells users from organisations and bots. */
export function accountView(base: string, account: Account, type: 'User' | 'Organization' | 'Bot' = 'User') {
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId(type, account.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
    gravatar_id: '',
    url: `${base}/users/${account.login}`,
    html_url: `https://github.com/${account.login}`,
    type,
    site_admin: false,
  };
}

export function orgView(base: string, org: Org) {
  return {
    login: org.login,
    id: org.id,
    node_id: nodeId('Organization', org.id),
    url: `${base}/orgs/${org.login}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${org.id}?v=4`,
    description: null,
  };
}

/** `repoView` is the full repository object of `GET /repositories/{id}` and `GET /repos/{o}/{r}`. */
export function repoView(base: string, repo: Repo, ownerIsOrg: boolean) {
  const fullName = `${repo.owner.login}/${repo.name}`;
  return {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: fullName,
    private: repo.visibility !== 'public',
    visibility: repo.visibility,
    owner: accountView(base, repo.owner, ownerIsOrg ? 'Organization' : 'User'),
    html_url: `https://github.com/${fullName}`,
    url: `${base}/repos/${fullName}`,
    description: null,
    fork: false,
    archived: repo.archived,
    disabled: false,
    default_branch: 'main',
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.createdAt,
  };
}

export function issueView(base: string, repo: Repo, issue: Issue) {
  const repoUrl = `${base}/repos/${repo.owner.login}/${repo.name}`;
  return {
    id: issue.id,
    node_id: nodeId('Issue', issue.id),
    url: `${repoUrl}/issues/${issue.number}`,
    repository_url: repoUrl,
    html_url: `https://github.com/${repo.owner.login}/${repo.name}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.state === 'closed' ? 'completed' : null,
    title: issue.title,
    body: issue.body,
    user: accountView(base, TOKEN_OWNER, 'Bot'),
    labels: issue.labels.map((name, i) => ({ id: issue.id * 100 + i, name, color: 'ededed', default: false, description: null })),
    comments: issue.comments.length,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.state === 'closed' ? issue.updatedAt : null,
  };
}

export function commentView(base: string, repo: Repo, issue: Issue, comment: IssueComment) {
  return {
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url: `${base}/repos/${repo.owner.login}/${repo.name}/issues/comments/${comment.id}`,
    html_url: `https://github.com/${repo.owner.login}/${repo.name}/issues/${issue.number}#issuecomment-${comment.id}`,
    issue_url: `${base}/repos/${repo.owner.login}/${repo.name}/issues/${issue.number}`,
    body: comment.body,
    user: accountView(base, TOKEN_OWNER, 'Bot'),
    created_at: comment.createdAt,
    updated_at: comment.createdAt,
  };
}
