import type { Store } from '../../store/store.ts';
import type { ReconcilerConfig } from '../reconcile-config.ts';
import { describeGithubError, type CountingClient } from '../sources/github-client.ts';
import { fileGithubIssue } from './file-github-issue.ts';
import { postWebhook } from './post-webhook.ts';
import type { RevocationReport } from './report-schema.ts';
import { writeReportFiles } from './write-report-files.ts';

type Delivery = RevocationReport['deliveries'][number];

/**
 * `publishReport` sends a finished run's report where the config asks — webhook, GitHub issue,
 * directory — and then stores it, with how each delivery went, so `GET /v1/reports` and the next
 * run's chart see it. A failed delivery is an error in the report, never a failed run; a store
 * that cannot take the report fails the run (it is the record of what was revoked).
 */
export async function publishReport(
  report: RevocationReport,
  ctx: { store: Store; reports: ReconcilerConfig['reports']; github?: () => Promise<CountingClient> },
): Promise<RevocationReport> {
  const deliveries: Delivery[] = [{ target: 'store', status: 'ok', detail: `GET /v1/reports/${report.id}` }];
  const attempt = async (target: Delivery['target'], work: () => Promise<string>) => {
    try {
      deliveries.push({ target, status: 'ok', detail: await work() });
    } catch (err) {
      deliveries.push({ target, status: 'failed', detail: target === 'github_issue' ? describeGithubError(err) : (err as Error).message });
    }
  };
  const { webhookUrl, githubIssue, directory } = ctx.reports;
  if (webhookUrl !== undefined) await attempt('webhook', async () => (await postWebhook(webhookUrl, report), 'posted'));
  if (githubIssue && ctx.github) {
    const github = ctx.github;
    await attempt('github_issue', async () => fileGithubIssue(await github(), githubIssue, report));
  }
  let final = withDeliveries(report, deliveries);
  if (directory !== undefined) {
    // Written as it will be stored: the directory's own line is there, assumed ok until the write says otherwise.
    const planned = [...deliveries, { target: 'directory' as const, status: 'ok' as const, detail: directory }];
    try {
      await writeReportFiles(directory, withDeliveries(report, planned));
      final = withDeliveries(report, planned);
    } catch (err) {
      final = withDeliveries(report, [...deliveries, { target: 'directory', status: 'failed', detail: `${directory}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
  }
  await ctx.store.saveReport({ id: final.id, startedAt: Date.parse(final.started_at), finishedAt: Date.parse(final.finished_at), summary: final.summary, body: JSON.stringify(final) });
  return final;
}

/** A report with its deliveries; failed ones join the errors, and a clean run turns degraded. */
function withDeliveries(report: RevocationReport, deliveries: Delivery[]): RevocationReport {
  const failed = deliveries.filter((d) => d.status === 'failed').map((d) => ({ source: `delivery:${d.target}`, message: d.detail }));
  const errors = [...report.errors, ...failed];
  const status = report.summary.status === 'ok' && failed.length > 0 ? 'degraded' : report.summary.status;
  return { ...report, deliveries, errors, summary: { ...report.summary, errors: errors.length, status } };
}
