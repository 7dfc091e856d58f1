import type { ApprovalRecord } from './approval-store.ts';

/** A Slack-compatible incoming-webhook body: `text` for notifications and clients without blocks. */
export interface WebhookMessage {
  text: string;
  blocks: { type: string; text?: { type: 'mrkdwn' | 'plain_text'; text: string }; elements?: { type: 'mrkdwn'; text: string }[] }[];
}

export interface WebhookDeps {
  url: string;
  /** Base URL approvers reach the broker at, for the approve / deny links. */
  publicUrl: string;
  timeoutMs?: number;
  /** Told when delivery fails (logs); delivery never holds up or fails the request. */
  onError?: (message: string) => void;
}

const MAX_JUSTIFICATION = 500;

/**
 * `approvalMessage` tells approvers who asks (repository, run, actor, policy, token id), what
 * (operation, models, tools, skills, max_tokens) and why it needs approval, with the caller's
 * justification and how to approve or deny. It names the token by id only, never the token.
 */
export function approvalMessage(record: ApprovalRecord, publicUrl: string): WebhookMessage {
  const r = record.requester;
  const s = record.summary;
  const who = r['repository'] !== undefined
    ? `${r['repository']}${r['run_id'] !== undefined ? ` run ${r['run_id']}${r['run_attempt'] !== undefined ? ` (attempt ${r['run_attempt']})` : ''}` : ''}${r['actor'] !== undefined ? `, triggered by ${r['actor']}` : ''}`
    : (r['email'] ?? r['sub'] ?? 'unknown');
  const what = [
    `${s.operation} (${s.route})`,
    s.models.length > 0 ? `model ${s.models.join(', ')}` : '',
    s.tools.length > 0 ? `tools ${s.tools.join(', ')}` : '',
    s.skills.length > 0 ? `skills ${s.skills.join(', ')}` : '',
    s.maxTokens !== undefined ? `max_tokens ${s.maxTokens}` : '',
  ].filter((part) => part !== '');
  const justification = record.justification === undefined ? '_none given_' : `“${escape(clip(record.justification))}”`;
  const base = `${publicUrl}/v1/approvals/${record.id}`;
  const lines = [
    `*Approval needed* \`${record.id}\` (policy ${escape(record.policy)}, token ${record.tokenId})`,
    `*Who:* ${escape(who)}`,
    `*What:* ${escape(what.join('; '))}`,
    `*Why approval:* ${escape(record.reasons.join('; '))}`,
    `*Justification:* ${justification}`,
    `*Approvers:* ${escape(record.approvers.join(', '))}; decide before ${new Date(record.pendingUntil).toISOString()}`,
    `*Approve:* \`skillgate approvals approve ${record.id}\` or POST ${base}/approve`,
    `*Deny:* \`skillgate approvals deny ${record.id}\` or POST ${base}/deny`,
  ];
  const text = lines.join('\n');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `skillgate request ${record.requestId}, fingerprint ${record.fingerprint.slice(0, 16)}…` }] },
    ],
  };
}

/**
 * `announceApproval` posts the message and returns at once: delivery is fire-and-forget with a
 * timeout, and no redirect is followed (a webhook URL that redirects is misconfigured, and the
 * redirect target would learn what the message says).
 */
export function announceApproval(record: ApprovalRecord, deps: WebhookDeps): Promise<void> {
  return fetch(deps.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(approvalMessage(record, deps.publicUrl)),
    redirect: 'manual',
    signal: AbortSignal.timeout(deps.timeoutMs ?? 5000),
  }).then(
    async (res) => {
      await res.body?.cancel();
      if (!res.ok) deps.onError?.(`approval webhook answered ${res.status} for ${record.id}`);
    },
    // The error may quote the URL, which can itself be a secret: report only its kind.
    (err: unknown) => deps.onError?.(`approval webhook failed for ${record.id} (${err instanceof Error ? err.name : 'error'})`),
  );
}

/** Slack mrkdwn control characters; a justification cannot forge links or mentions. */
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// eslint-disable-next-line no-control-regex
const clip = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, MAX_JUSTIFICATION);
