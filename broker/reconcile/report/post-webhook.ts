import { statusLine } from './render-markdown.ts';
import type { RevocationReport } from './report-schema.ts';

const TIMEOUT_MS = 10_000;

/**
 * `postWebhook` POSTs `{text, report}`: `text` is the one-line verdict a Slack-compatible
 * incoming webhook shows, `report` the whole JSON document for anything that reads further.
 * The URL may itself be a secret, so failures name only the status.
 */
export async function postWebhook(url: string, report: RevocationReport): Promise<void> {
  const text = `skillgate revocation report ${report.id}: ${statusLine(report).replace(/\*\*/g, '*')}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text, report }),
    redirect: 'error',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).catch((err: Error) => {
    throw new Error(`webhook: no answer (${err.name})`);
  });
  if (!res.ok) throw new Error(`webhook answered HTTP ${res.status}`);
}
