// Keeps one report comment per job on a pull request: found again by its hidden marker and
// edited, so re-runs and new pushes do not pile up comments. No toolkit import: `post.ts` adapts
// Octokit to `CommentsApi`.

export interface PrComment {
  id: number;
  body?: string | null;
  user?: { type?: string } | null;
  html_url?: string;
}

/** The three issue-comment calls this needs (issues API: PR conversation comments are issue comments). */
export interface CommentsApi {
  list(issueNumber: number): Promise<PrComment[]>;
  create(issueNumber: number, body: string): Promise<PrComment>;
  update(commentId: number, body: string): Promise<PrComment>;
}

/** GitHub refuses comment bodies over 65,536 characters. */
const MAX_BODY = 65_000;

/**
 * `upsertPrComment` edits the comment carrying `marker` or creates one. Only a bot's comment is
 * reused: anyone can paste the marker into their own comment, and that one is not ours to rewrite.
 */
export async function upsertPrComment(api: CommentsApi, opts: { issueNumber: number; marker: string; body: string }): Promise<{ action: 'created' | 'updated'; url?: string }> {
  const full = `${opts.marker}\n${opts.body}`;
  const body = full.length <= MAX_BODY ? full : `${full.slice(0, MAX_BODY)}\n\n… (report cut; the job summary has all of it)\n`;
  const existing = (await api.list(opts.issueNumber)).find((c) => c.user?.type === 'Bot' && (c.body ?? '').startsWith(opts.marker));
  const saved = existing ? await api.update(existing.id, body) : await api.create(opts.issueNumber, body);
  return { action: existing ? 'updated' : 'created', ...(saved.html_url !== undefined && { url: saved.html_url }) };
}
