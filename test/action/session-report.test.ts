import { describe, expect, it } from 'vitest';
import type { SessionTranscript } from '../../action/broker-client.ts';
import { upsertPrComment, type CommentsApi, type PrComment } from '../../action/pr-comment.ts';
import { cell, commentMarker, renderSessionReport, summarizeSession } from '../../action/session-report.ts';

const CHECKPOINT = `1042:${'3f9a'.repeat(16)}`;
const transcript: SessionTranscript = {
  session: 'tok_0123456789abcdef',
  checkpoint: CHECKPOINT,
  token: { policy: 'docs-bot', scopes: ['messages:create', 'skills:read'], identity: { repository: 'octo-org/octo-repo', run_id: '77', run_attempt: '2', actor: 'octocat', event_name: 'push', ref: 'refs/heads/main' }, issuedAt: '2026-01-01T10:00:00.000Z', expiresAt: '2026-01-01T10:15:00.000Z' },
  events: [
    { at: '2026-01-01T10:00:00.000Z', type: 'token.exchange', outcome: 'issued' },
    { at: '2026-01-01T10:01:00.000Z', type: 'approval.requested', outcome: 'pending' },
    { at: '2026-01-01T10:02:00.000Z', type: 'approval.approved', outcome: 'approved' },
    { at: '2026-01-01T10:02:10.000Z', type: 'approval.denied', outcome: 'refused', reason: 'self_approval' },
    { at: '2026-01-01T10:02:30.000Z', type: 'approval.used', outcome: 'granted' },
  ],
  calls: [
    { requestId: 'req_1', at: '2026-01-01T10:00:05.000Z', operation: 'messages:create', outcome: 'ok', status: 200, model: 'claude-sonnet-5', prompt: 'summarize <img src=x onerror=alert(1)> for @octo-org/security | now', usage: { inputTokens: 10, outputTokens: 20 }, masked: 0 },
    { requestId: 'req_2', at: '2026-01-01T10:00:06.000Z', operation: 'messages:create', outcome: 'denied', reason: 'model_not_allowed', status: 403 },
    { requestId: 'req_3', at: '2026-01-01T10:00:07.000Z', operation: 'messages:create', outcome: 'ok', status: 200, model: 'claude-sonnet-5', skills: ['pdf'], usage: { inputTokens: 5, outputTokens: 7 }, masked: 2 },
    { requestId: 'req_4', at: '2026-01-01T10:00:08.000Z', operation: 'messages:create', outcome: 'upstream_error', status: 529, model: 'claude-sonnet-5-mini' },
  ],
};

describe('summarizeSession', () => {
  it('counts calls, tokens, masks, models and skills of calls that ran, and approval events', () => {
    const s = summarizeSession(transcript);
    expect(s).toMatchObject({ calls: 4, ok: 2, denied: 1, failed: 1, inputTokens: 15, outputTokens: 27, masked: 2 });
    expect([...s.models]).toEqual([['claude-sonnet-5', 2], ['claude-sonnet-5-mini', 1]]);
    expect([...s.skills]).toEqual([['pdf', 1]]);
    // A refused attempt to decide (self-approval) is not an approval.
    expect([...s.approvals]).toEqual([['requested', 1], ['approved', 1], ['used', 1]]);
  });
});

describe('renderSessionReport', () => {
  const md = renderSessionReport({ sessionId: transcript.session, transcript, revoked: true, runUrl: 'https://github.com/octo-org/octo-repo/actions/runs/77/attempts/2' });

  it('leads with who ran it and the totals', () => {
    expect(md).toContain('### skillgate session `tok_0123456789abcdef`');
    expect(md).toContain('**octo-org/octo-repo** · [run 77 (attempt 2)](https://github.com/octo-org/octo-repo/actions/runs/77/attempts/2) · actor octocat · push refs/heads/main · policy `docs-bot`');
    expect(md).toContain('| 4 | 2 | 1 | 1 | 15 | 27 | 2 |');
    expect(md).toContain('- **Models:** `claude-sonnet-5` ×2, `claude-sonnet-5-mini`');
    expect(md).toContain('- **Skills run:** `pdf`');
    expect(md).toContain('- **Approvals:** requested ×1, approved ×1, used ×1');
    expect(md).toContain('revoked when the job ended');
    expect(md).toContain(`- **Audit checkpoint:** \`${CHECKPOINT}\``);
  });

  it('lists denials and masked calls', () => {
    expect(md).toContain('| 2 | messages:create | model_not_allowed | 403 |');
    expect(md).toContain('- call 3 (messages:create, claude-sonnet-5): 2 secret(s) replaced');
  });

  it('keeps prompt text inert: no HTML, no mention, no table break', () => {
    const row = md.split('\n').find((l) => l.startsWith('| 1 | 10:00:05'))!;
    expect(row).toContain('summarize &lt;img src=x onerror=alert(1)&gt; for @\u2060octo-org/security \\| now');
    expect(row.split(/(?<!\\)\|/)).toHaveLength(10);
  });

  it('says so when the session could not be read, and when revocation failed', () => {
    const failed = renderSessionReport({ sessionId: 'tok_x', revoked: false, auditError: 'cannot reach the broker at https://b (ECONNREFUSED)' });
    expect(failed).toContain("could not be read from the broker's audit API: cannot reach the broker at https://b (ECONNREFUSED)");
    expect(failed).toContain('could not be revoked');
  });
});

describe('cell', () => {
  it.each([
    ['a|b', 'a\\|b'],
    ['line\nbreak', 'line break'],
    ['`code`', "'code'"],
    ['[x](https://evil)', '\\[x\\](https://evil)'],
    ['<script>', '&lt;script&gt;'],
    ['hi @octocat', 'hi @\u2060octocat'],
    [undefined, ''],
  ])('%j → %j', (raw, out) => expect(cell(raw)).toBe(out));
});

describe('upsertPrComment', () => {
  const api = (comments: PrComment[]): CommentsApi & { comments: PrComment[] } => ({
    comments,
    list: async () => comments,
    create: async (_n, body) => {
      const c = { id: comments.length + 1, body, user: { type: 'Bot' }, html_url: `u${comments.length + 1}` };
      comments.push(c);
      return c;
    },
    update: async (id, body) => {
      const c = comments.find((x) => x.id === id)!;
      c.body = body;
      return c;
    },
  });
  const marker = commentMarker('review', 'claude');

  it('creates, then edits the bot comment carrying the marker', async () => {
    const a = api([{ id: 9, body: `${marker}\nfake`, user: { type: 'User' } }]);
    expect(await upsertPrComment(a, { issueNumber: 1, marker, body: 'one' })).toEqual({ action: 'created', url: 'u2' });
    expect(await upsertPrComment(a, { issueNumber: 1, marker, body: 'two' })).toEqual({ action: 'updated', url: 'u2' });
    expect(a.comments.map((c) => c.body)).toEqual([`${marker}\nfake`, `${marker}\ntwo`]);
  });

  it('keys the marker by workflow and job', () => {
    expect(commentMarker('review', 'claude')).not.toBe(commentMarker('review', 'lint'));
    // A workflow name cannot close the HTML comment early.
    const marker = commentMarker('a --> b', 'c');
    expect(marker.indexOf('-->')).toBe(marker.length - 3);
  });

  it('cuts a body GitHub would refuse', async () => {
    const a = api([]);
    await upsertPrComment(a, { issueNumber: 1, marker, body: 'x'.repeat(70_000) });
    expect(a.comments[0]!.body!.length).toBeLessThan(65_536);
    expect(a.comments[0]!.body).toContain('report cut');
  });
});
