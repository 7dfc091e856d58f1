// The approval webhook: a Slack-compatible message saying who asks for what and why, delivered
// fire-and-forget to a real HTTP receiver; it never carries a token and never fails a request.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../broker/approvals/approval-store.ts';
import { announceApproval, approvalMessage } from '../../broker/approvals/webhook.ts';

const record: ApprovalRecord = {
  id: 'apr_0123456789abcdef',
  state: 'pending',
  tokenId: 'tok_0000000000000001',
  policy: 'docs-bot',
  fingerprint: 'f'.repeat(64),
  requestId: 'req_1',
  requester: { repository: 'octo-org/octo-repo', run_id: '4242', run_attempt: '2', actor: 'octocat', sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' },
  summary: { operation: 'messages:create', route: 'POST /v1/messages', models: ['claude-opus-5'], tools: ['bash'], skills: ['pdf@latest'], maxTokens: 16000 },
  reasons: ['model claude-opus-5', 'tool bash'],
  justification: 'regenerate <!channel> docs & changelog',
  approvers: ['security'],
  usesTotal: 1,
  usesLeft: 1,
  validForSec: 3600,
  createdAt: Date.parse('2026-11-02T10:00:00Z'),
  pendingUntil: Date.parse('2026-11-02T11:00:00Z'),
};

let server: Server;
let url: string;
const received: { headers: Record<string, unknown>; body: string }[] = [];
let mode: 'ok' | 'slow' | 'fail' = 'ok';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      if (mode === 'slow') return setTimeout(() => res.end('ok'), 2000);
      res.statusCode = mode === 'fail' ? 500 : 200;
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/hook`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

describe('approval webhook', () => {
  it('says who asks, what, why, the justification, and how to approve or deny', () => {
    const { text, blocks } = approvalMessage(record, 'https://skillgate.example.com');
    expect(text).toContain('apr_0123456789abcdef');
    expect(text).toMatch(/\*Who:\* octo-org\/octo-repo run 4242 \(attempt 2\), triggered by octocat/);
    expect(text).toMatch(/\*What:\* messages:create \(POST \/v1\/messages\); model claude-opus-5; tools bash; skills pdf@latest; max_tokens 16000/);
    expect(text).toMatch(/\*Why approval:\* model claude-opus-5; tool bash/);
    expect(text).toContain('skillgate approvals approve apr_0123456789abcdef');
    expect(text).toContain('POST https://skillgate.example.com/v1/approvals/apr_0123456789abcdef/deny');
    expect(blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text } });
  });

  it('escapes the caller-chosen justification so it cannot ping a channel or forge a link', () => {
    const { text } = approvalMessage(record, 'https://skillgate.example.com');
    expect(text).toContain('regenerate &lt;!channel&gt; docs &amp; changelog');
    expect(text).not.toContain('<!channel>');
  });

  it('says so when no justification was given', () => {
    const { justification: _j, ...bare } = record;
    expect(approvalMessage(bare, 'https://x.test').text).toMatch(/\*Justification:\* _none given_/);
  });

  it('posts JSON to the receiver', async () => {
    mode = 'ok';
    const errors: string[] = [];
    await announceApproval(record, { url, publicUrl: 'https://skillgate.example.com', onError: (m) => errors.push(m) });
    const last = received.at(-1)!;
    expect(last.headers['content-type']).toBe('application/json');
    expect(JSON.parse(last.body)).toMatchObject({ text: expect.stringContaining('apr_0123456789abcdef') });
    expect(errors).toEqual([]);
  });

  it('reports a failing or slow receiver without throwing, and without quoting the URL', async () => {
    mode = 'fail';
    const errors: string[] = [];
    await announceApproval(record, { url, publicUrl: 'https://x.test', onError: (m) => errors.push(m) });
    mode = 'slow';
    await announceApproval(record, { url, publicUrl: 'https://x.test', timeoutMs: 100, onError: (m) => errors.push(m) });
    await announceApproval(record, { url: 'http://127.0.0.1:1/hook', publicUrl: 'https://x.test', onError: (m) => errors.push(m) });
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/answered 500/);
    expect(errors.join('\n')).not.toMatch(/services|T0\/B0|127\.0\.0\.1/);
  });
});
