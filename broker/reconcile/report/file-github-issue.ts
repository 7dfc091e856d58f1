import type { CountingClient } from '../sources/github-client.ts';
import { renderMarkdown } from './render-markdown.ts';
import type { RevocationReport } from './report-schema.ts';

/** GitHub refuses issue and comment bodies over 65 536 characters. */
const MAX_BODY = 65_000;

export interface IssueTarget {
  repository: string;
  title: string;
  mode: 'append' | 'create';
  labels: string[];
}

/**
 * `fileGithubIssue` files the Markdown report: `create` opens an issue per run; `append` adds a
 * comment to the open issue with the configured title (opening it the first time), so a
 * repository collects one running thread of reports. Returns the issue's URL.
 */
export async function fileGithubIssue(client: CountingClient, target: IssueTarget, report: RevocationReport): Promise<string> {
  const [owner = '', repo = ''] = target.repository.split('/');
  const body = fit(report);
  const { octokit } = client;
  if (target.mode === 'append') {
    const open = await octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo, state: 'open', per_page: 100, ...(target.labels.length > 0 && { labels: target.labels.join(',') }) });
    const thread = open.find((issue) => issue.title === target.title && issue.pull_request === undefined);
    if (thread) {
      const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: thread.number, body });
      return data.html_url;
    }
  }
  const title = target.mode === 'append' ? target.title : `${target.title}: ${report.started_at.slice(0, 10)} (${report.id})`;
  const { data } = await octokit.rest.issues.create({ owner, repo, title, body, labels: target.labels });
  return data.html_url;
}

/** Fewer rows until the body fits, then a hard cut: the JSON report always has everything. */
function fit(report: RevocationReport): string {
  for (const maxRows of [500, 100, 20]) {
    const text = renderMarkdown(report, { maxRows });
    if (text.length <= MAX_BODY) return text;
  }
  return `${renderMarkdown(report, { maxRows: 5 }).slice(0, MAX_BODY)}\n\n…cut short; the full report is in the JSON.`;
}
