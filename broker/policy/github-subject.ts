/**
 * GitHub's `sub` comes in two grammars: legacy `repo:OWNER/REPO:CONTEXT` and, for repositories
 * created or moved after 2026-07-15, immutable `repo:OWNER@OWNER_ID/REPO@REPO_ID:CONTEXT`.
 * Custom templates (`include_claim_keys`) produce other shapes, which are left unparsed.
 */
export interface GithubSubject {
  owner: string;
  repo: string;
  ownerId?: string;
  repoId?: string;
  /** Everything after the repository: `ref:refs/heads/main`, `environment:prod`, `pull_request`. */
  context: string;
  /** The same subject written in the legacy grammar, so policies written either way compare equal. */
  legacy: string;
}

const SUBJECT = /^repo:([^/:@]+)(?:@(\d+))?\/([^/:@]+)(?:@(\d+))?:(.+)$/;

/** `parseGithubSubject` returns the parts of a repo subject, or undefined for a custom template. */
export function parseGithubSubject(sub: string): GithubSubject | undefined {
  const m = SUBJECT.exec(sub);
  if (!m) return undefined;
  const [, owner, ownerId, repo, repoId, context] = m as unknown as [string, string, string | undefined, string, string | undefined, string];
  return {
    owner,
    repo,
    ...(ownerId === undefined ? {} : { ownerId }),
    ...(repoId === undefined ? {} : { repoId }),
    context,
    legacy: `repo:${owner}/${repo}:${context}`,
  };
}
