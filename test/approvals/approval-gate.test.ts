// The approve stage and its decisions on a real SQLite file with a hand-driven clock: refuse and
// hold modes, single- and N-use approvals bound to token and fingerprint, denial, both kinds of
// expiry, who may decide, and the audit record of every step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalInput } from '../../broker/approvals/approval-gate.ts';
import { createApprovalGate, type ApprovalService } from '../../broker/approvals/approval-service.ts';
import { openApprovalStore } from '../../broker/approvals/approval-store.ts';
import type { ApproverIdentity } from '../../broker/approvals/approver-auth.ts';
import type { AuditRecord } from '../../broker/audit/audit-record.ts';
import { BrokerError } from '../../broker/errors.ts';
import type { Grant } from '../../broker/policy/grant.ts';
import { classifyRequest } from '../../broker/proxy/classify.ts';
import { ProxyError } from '../../broker/proxy/proxy-error.ts';
import type { TokenRecord } from '../../broker/store/store.ts';
import { withoutUndefined } from '../helpers/oidc-issuer/claims.ts';

const START = Date.parse('2026-11-02T10:00:00Z');
const FP_A = 'a'.repeat(64);
const FP_B = 'b'.repeat(64);

let dir: string;
let clock: number;
let audit: AuditRecord[];
const services: ApprovalService[] = [];

function gate(extra: { pendingTimeoutSec?: number } = {}): ApprovalService {
  const service = createApprovalGate({
    storePath: join(dir, 'skillgate.db'),
    config: { approvals: { approvers: [], pendingTimeoutSec: extra.pendingTimeoutSec ?? 3600 }, publicUrl: 'https://skillgate.test' },
    now: () => clock,
    audit: async (record) => void audit.push(record),
    pollMs: 20,
  });
  services.push(service);
  return service;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-approvals-'));
  clock = START;
  audit = [];
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A GitHub job's token; `identity` overrides claims (undefined removes one). */
const token = (id = 'tok_0000000000000001', identity: Record<string, string | undefined> = {}): TokenRecord => ({
  id,
  tokenHash: 'h'.repeat(64),
  policy: 'ci',
  issuer: 'actions',
  scopes: ['messages:create'],
  identity: withoutUndefined({ iss: 'https://token.actions.githubusercontent.com', sub: 'repo:octo-org/octo-repo:ref:refs/heads/main', repository: 'octo-org/octo-repo', repository_id: '74', run_id: '4242', actor: 'octocat', ...identity }) as unknown as TokenRecord['identity'],
  issuedAt: START,
  expiresAt: START + 3_600_000,
});

type Approval = NonNullable<Grant['approval']>;
const grant = (approval: Partial<Approval> = {}): Grant => ({
  scopes: ['messages:create'],
  ttlSec: 3600,
  approval: { for: ['model:claude-opus-*'], approvers: ['security', 'octocat'], mode: 'refuse', waitSec: 2, uses: 1, validForSec: 600, ...approval },
});

const route = classifyRequest('POST', '/v1/messages', {});
let requests = 0;
function input(opts: { token?: TokenRecord; grant?: Grant; model?: string; fingerprint?: string; justification?: string } = {}): ApprovalInput {
  return {
    token: opts.token ?? token(),
    grant: opts.grant ?? grant(),
    route,
    body: { model: opts.model ?? 'claude-opus-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
    fingerprint: opts.fingerprint ?? FP_A,
    requestId: `req_${++requests}`,
    ...(opts.justification !== undefined && { justification: opts.justification }),
  };
}

const security: ApproverIdentity = { names: ['security'], principal: 'operator:ops', identifiers: ['ops', 'security'] };
const octocat: ApproverIdentity = { names: ['octocat'], principal: 'oidc:okta:00u-octo', identifiers: ['00u-octo', 'OctoCat', 'octocat'] };
const stranger: ApproverIdentity = { names: ['finance'], principal: 'operator:finance', identifiers: ['finance'] };

/** The ProxyError the stage refused with; fails the test when it let the request through. */
async function refusal(pending: Promise<void>): Promise<ProxyError & { details: Record<string, unknown> }> {
  const err = await pending.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ProxyError)) throw new Error(`expected a ProxyError, got ${String(err)}`);
  return err as ProxyError & { details: Record<string, unknown> };
}

async function brokerError(pending: Promise<unknown>): Promise<BrokerError> {
  const err = await pending.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof BrokerError)) throw new Error(`expected a BrokerError, got ${String(err)}`);
  return err;
}

const steps = () => audit.map((r) => `${r.type}:${r.outcome ?? ''}`);

describe('refuse mode', () => {
  it('lets a request that matches no approval rule through without recording anything', async () => {
    const g = gate();
    await g.approve(input({ model: 'claude-sonnet-5' }));
    await g.approve({ ...input(), grant: { scopes: ['messages:create'], ttlSec: 60 } });
    expect(audit).toEqual([]);
  });

  it('refuses with 403 approval_required, the approval id in message and details, and asks only once per request', async () => {
    const g = gate();
    const first = await refusal(g.approve(input({ justification: 'release notes for v2' })));
    expect(first).toMatchObject({ status: 403, type: 'permission_error', reason: 'approval_required' });
    const id = first.details['approval_id'] as string;
    expect(id).toMatch(/^apr_[0-9A-Za-z]{16}$/);
    expect(first.message).toContain(id);
    expect(first.message).toMatch(/model claude-opus-5.*skillgate approvals approve/);
    expect(first.details).toMatchObject({ error_code: 'approval_required', state: 'pending', approvers: ['security', 'octocat'], reasons: ['model claude-opus-5'] });

    const again = await refusal(g.approve(input()));
    expect(again.details['approval_id']).toBe(id);
    expect(steps()).toEqual(['approval.requested:pending']);
    expect(audit[0]).toMatchObject({ session: 'tok_0000000000000001', repository: 'octo-org/octo-repo', runId: '4242', actor: 'octocat', data: { approval_id: id, justification: 'release notes for v2', fingerprint: FP_A } });
    expect(await g.get(id)).toMatchObject({ state: 'pending', justification: 'release notes for v2', requester: { repository: 'octo-org/octo-repo', actor: 'octocat' } });
  });

  it('passes the identical request once after approval, then asks again (single use)', async () => {
    const g = gate();
    const id = (await refusal(g.approve(input()))).details['approval_id'] as string;
    const approved = await g.decide(id, 'approve', security, { reason: 'ok for the release' });
    expect(approved).toMatchObject({ state: 'approved', decidedBy: 'operator:ops', decisionReason: 'ok for the release', validUntil: START + 600_000, usesLeft: 1 });

    await g.approve(input());
    expect((await g.get(id))?.state).toBe('used');
    const next = await refusal(g.approve(input()));
    expect(next.reason).toBe('approval_required');
    expect(next.details['approval_id']).not.toBe(id);
    expect(steps()).toEqual(['approval.requested:pending', 'approval.approved:approved', 'approval.used:granted', 'approval.requested:pending']);
  });

  it('lets an approval with uses: 3 pass the identical request three times', async () => {
    const g = gate();
    const id = (await refusal(g.approve(input({ grant: grant({ uses: 3 }) })))).details['approval_id'] as string;
    await g.decide(id, 'approve', security);
    for (let i = 0; i < 3; i++) await g.approve(input({ grant: grant({ uses: 3 }) }));
    await expect(g.approve(input({ grant: grant({ uses: 3 }) }))).rejects.toMatchObject({ reason: 'approval_required' });
    expect(steps().filter((s) => s.startsWith('approval.used'))).toHaveLength(3);
  });

  it('binds an approval to the exact fingerprint: another request by the same token gets its own approval', async () => {
    const g = gate();
    const idA = (await refusal(g.approve(input({ fingerprint: FP_A })))).details['approval_id'] as string;
    await g.decide(idA, 'approve', security);
    const b = await refusal(g.approve(input({ fingerprint: FP_B })));
    expect(b.reason).toBe('approval_required');
    expect(b.details['approval_id']).not.toBe(idA);
    await g.approve(input({ fingerprint: FP_A }));
  });

  it('binds an approval to the token: the same request with another token gets its own approval', async () => {
    const g = gate();
    const id = (await refusal(g.approve(input()))).details['approval_id'] as string;
    await g.decide(id, 'approve', security);
    const other = await refusal(g.approve(input({ token: token('tok_0000000000000002') })));
    expect(other.details['approval_id']).not.toBe(id);
    expect(await brokerError(g.decide(other.details['approval_id'] as string, 'approve', security, { tokenId: 'tok_0000000000000001' }))).toMatchObject({ status: 409, reason: 'approval_mismatch' });
    expect(await brokerError(g.decide(other.details['approval_id'] as string, 'approve', security, { fingerprint: FP_B }))).toMatchObject({ status: 409, reason: 'approval_mismatch' });
  });

  it('keeps a denied request denied (403 approval_denied, with who and why)', async () => {
    const g = gate();
    const id = (await refusal(g.approve(input()))).details['approval_id'] as string;
    await g.decide(id, 'deny', security, { reason: 'opus is not for docs' });
    for (let i = 0; i < 2; i++) {
      const denied = await refusal(g.approve(input()));
      expect(denied).toMatchObject({ status: 403, reason: 'approval_denied', details: { error_code: 'approval_denied', approval_id: id, denied_by: 'operator:ops', reason: 'opus is not for docs' } });
      expect(denied.message).toContain(id);
    }
    expect(steps()).toEqual(['approval.requested:pending', 'approval.denied:denied']);
  });
});

describe('expiry', () => {
  it('expires a pending approval nobody decided, refuses with approval_expired and a new approval', async () => {
    const g = gate({ pendingTimeoutSec: 60 });
    const id = (await refusal(g.approve(input()))).details['approval_id'] as string;
    clock += 60_000;
    const expired = await refusal(g.approve(input()));
    expect(expired).toMatchObject({ status: 403, reason: 'approval_expired', details: { error_code: 'approval_expired', expired_approval_id: id } });
    expect(expired.details['approval_id']).not.toBe(id);
    expect(expired.message).toMatch(/nobody decided on it in time/);
    expect(await brokerError(g.decide(id, 'approve', security))).toMatchObject({ status: 409, reason: 'approval_not_pending' });
    expect(steps()).toEqual(['approval.requested:pending', 'approval.expired:expired', 'approval.requested:pending', 'approval.approved:refused']);
    expect(audit[1]).toMatchObject({ reason: 'pending_timeout', data: { approval_id: id } });
  });

  it('expires an approval not used within valid_for', async () => {
    const g = gate();
    const id = (await refusal(g.approve(input()))).details['approval_id'] as string;
    await g.decide(id, 'approve', security);
    clock += 600_000;
    const expired = await refusal(g.approve(input()));
    expect(expired).toMatchObject({ reason: 'approval_expired', details: { expired_approval_id: id } });
    expect(expired.message).toMatch(/approved but not used within 10m/);
    expect((await g.get(id))?.state).toBe('expired');
    expect(audit.find((r) => r.type === 'approval.expired')).toMatchObject({ reason: 'not_used_in_time', session: 'tok_0000000000000001' });
  });

  it('lists expirations once, on whichever call notices them', async () => {
    const g = gate({ pendingTimeoutSec: 60 });
    await refusal(g.approve(input()));
    clock += 61_000;
    expect(await g.list({ state: 'expired' })).toHaveLength(1);
    expect(await g.list({})).toHaveLength(1);
    expect(steps().filter((s) => s.startsWith('approval.expired'))).toHaveLength(1);
  });
});

describe('deciding', () => {
  it('refuses self-approval: the GitHub actor who triggered the run cannot approve it', async () => {
    const g = gate();
    const id = (await refusal(g.approve(input()))).details['approval_id'] as string;
    const err = await brokerError(g.decide(id, 'approve', octocat));
    expect(err).toMatchObject({ status: 403, reason: 'self_approval' });
    expect(err.message).toMatch(/actor octocat.*cannot approve or deny its own request/);
    expect((await g.get(id))?.state).toBe('pending');
    expect(audit.at(-1)).toMatchObject({ type: 'approval.approved', outcome: 'refused', reason: 'self_approval', data: { approval_id: id, by: 'oidc:okta:00u-octo' } });
  });

  it('refuses self-approval of a personal token: the same person by sub', async () => {
    const g = gate();
    const human = token('tok_0000000000000003', { iss: 'https://acme.okta.example', sub: '00u-octo', repository: undefined, actor: undefined, run_id: undefined });
    const id = (await refusal(g.approve(input({ token: human })))).details['approval_id'] as string;
    await expect(g.decide(id, 'deny', octocat)).rejects.toMatchObject({ reason: 'self_approval' });
  });

  it('refuses approvers the policy does not list, unknown ids, and a second decision', async () => {
    const g = gate();
    const id = (await refusal(g.approve(input()))).details['approval_id'] as string;
    expect(await brokerError(g.decide(id, 'approve', stranger))).toMatchObject({ status: 403, reason: 'not_an_approver' });
    expect(await brokerError(g.decide('apr_0000000000000000', 'approve', security))).toMatchObject({ status: 404, reason: 'approval_not_found' });
    await g.decide(id, 'deny', security);
    expect(await brokerError(g.decide(id, 'approve', security))).toMatchObject({ status: 409, reason: 'approval_not_pending' });
    expect((await g.get(id))?.state).toBe('denied');
  });

  it('lists only approvals the caller may decide', async () => {
    const g = gate();
    await refusal(g.approve(input()));
    expect(await g.list({ state: 'pending', approver: security })).toHaveLength(1);
    expect(await g.list({ state: 'pending', approver: stranger })).toHaveLength(0);
  });
});

describe('store', () => {
  it('asks once when identical requests race in on two brokers: the second insert returns the open approval', async () => {
    const g = gate();
    const first = (await refusal(g.approve(input()))).details['approval_id'] as string;
    const [a, b] = [openApprovalStore(join(dir, 'skillgate.db')), openApprovalStore(join(dir, 'skillgate.db'))];
    try {
      const open = a.get(first)!;
      expect(b.insertUnlessOpen({ ...open, id: 'apr_racer00000000000' }).id).toBe(first);
      b.decide(first, { state: 'denied', by: 'operator:ops', at: clock });
      expect(a.insertUnlessOpen({ ...open, id: 'apr_racer00000000000' }).id).toBe('apr_racer00000000000');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('hold mode', () => {
  const hold = (waitSec: number) => grant({ mode: 'hold', waitSec });

  it('holds the request until an approver approves, then lets it through', async () => {
    const g = gate();
    const held = g.approve(input({ grant: hold(10) }));
    const [pending] = await waitFor(() => g.list({ state: 'pending' }));
    await g.decide(pending!.id, 'approve', security);
    await held;
    expect(steps()).toEqual(['approval.requested:pending', 'approval.approved:approved', 'approval.used:granted']);
  });

  it('sees a decision made by another broker sharing the store (by polling)', async () => {
    const g = gate();
    const other = gate();
    const held = g.approve(input({ grant: hold(10) }));
    const [pending] = await waitFor(() => other.list({ state: 'pending' }));
    await other.decide(pending!.id, 'approve', security);
    await held;
  });

  it('refuses a held request at once when it is denied', async () => {
    const g = gate();
    const held = refusal(g.approve(input({ grant: hold(10) })));
    const [pending] = await waitFor(() => g.list({ state: 'pending' }));
    await g.decide(pending!.id, 'deny', security);
    expect((await held).reason).toBe('approval_denied');
  });

  it('answers 403 approval_required (never a timeout status) when the wait runs out', async () => {
    const g = gate();
    const err = await refusal(g.approve(input({ grant: hold(1) })));
    expect(err).toMatchObject({ status: 403, reason: 'approval_required', details: { state: 'pending' } });
    expect(err.message).toMatch(/still pending after the hold/);
  });

  it('lets held requests go (refused as still pending) when the broker shuts down', async () => {
    const g = gate();
    const held = refusal(g.approve(input({ grant: hold(60) })));
    await waitFor(() => g.list({ state: 'pending' }));
    services.splice(services.indexOf(g), 1);
    await g.close();
    expect((await held).reason).toBe('approval_required');
  });
});

/** Polls `read` until it returns a non-empty list (a held request writes its approval asynchronously). */
async function waitFor<T>(read: () => Promise<T[]>): Promise<T[]> {
  for (let i = 0; i < 200; i++) {
    const items = await read();
    if (items.length > 0) return items;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('nothing appeared');
}
