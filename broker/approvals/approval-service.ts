import type { AuditRecord } from '../audit/audit-record.ts';
import { identityFields } from '../audit/record-event.ts';
import type { Config } from '../config/load-config.ts';
import { BrokerError, policyDenied } from '../errors.ts';
import { generateId } from '../exchange/token-format.ts';
import { StoreUnavailableError, type TokenRecord } from '../store/store.ts';
import { approvalDenied, approvalExpired, approvalRequired, approvalsUnavailable } from './approval-errors.ts';
import type { ApprovalGate, ApprovalInput } from './approval-gate.ts';
import { compileApprovalRules, matchApprovalRules, summarizeRequest } from './approval-rules.ts';
import { openApprovalStore, type ApprovalRecord, type ApprovalState, type Requester } from './approval-store.ts';
import type { ApproverIdentity } from './approver-auth.ts';
import { announceApproval } from './webhook.ts';

/** The approve stage plus what the approval routes and CLI need. */
export interface ApprovalService extends ApprovalGate {
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Approvals `approver` may decide (all when undefined), newest first. */
  list(filter: { state?: ApprovalState; approver?: ApproverIdentity; limit?: number }): Promise<ApprovalRecord[]>;
  /** Approves or denies a pending approval; throws a BrokerError saying why it may not. */
  decide(id: string, decision: 'approve' | 'deny', approver: ApproverIdentity, opts?: DecideOptions): Promise<ApprovalRecord>;
  /** Wakes held requests (they are refused as still pending) and closes the store connection. */
  close(): Promise<void>;
}

export interface DecideOptions {
  reason?: string;
  /** The approver expects this token / fingerprint: refuse (409) when the approval is for another. */
  tokenId?: string;
  fingerprint?: string;
  requestId?: string;
}

export interface ApprovalGateOptions {
  /** The broker's SQLite file (approvals keep their own table and connection). */
  storePath: string;
  config: Pick<Config, 'approvals' | 'publicUrl'>;
  now: () => number;
  /** Called for every step (requested, approved, denied, expired, used, refused decisions); default no-op. */
  audit?: (record: AuditRecord) => Promise<void>;
  /** How often a held request re-reads the store (decisions made by another broker sharing it). Default 500 ms. */
  pollMs?: number;
  /** Told when the webhook cannot be delivered. */
  log?: (message: string) => void;
}

const REQUESTER_CLAIMS = ['iss', 'sub', 'repository', 'repository_id', 'run_id', 'run_attempt', 'actor', 'workflow_ref', 'ref', 'event_name', 'environment', 'email'] as const;
const MAX_JUSTIFICATION = 500;

/**
 * `createApprovalGate` is the approve stage: a request that matches its policy's approval rules
 * passes only on an approved, unexpired, unspent approval for the same token and the same
 * request fingerprint. Otherwise an approval is requested (and announced), and the request is
 * held up to the policy's wait or refused at once with the approval id.
 */
export function createApprovalGate(opts: ApprovalGateOptions): ApprovalService {
  const store = openApprovalStore(opts.storePath);
  const audit = opts.audit ?? (async () => undefined);
  const { approvals, publicUrl } = opts.config;
  const waiters = new Map<string, Set<() => void>>();
  let closed = false;

  const wake = (id: string) => waiters.get(id)?.forEach((resolve) => resolve());

  /** Lapsed approvals are found whenever approvals are touched, and each expiry is audited once. */
  async function sweep(): Promise<void> {
    for (const r of store.expireDue(opts.now())) {
      const reason = r.decidedAt === undefined ? 'pending_timeout' : 'not_used_in_time';
      await audit({ ...recordBase(r), type: 'approval.expired', at: r.expiredAt ?? opts.now(), outcome: 'expired', reason, data: { approval_id: r.id, uses_left: r.usesLeft } });
      wake(r.id);
    }
  }

  async function request(input: ApprovalInput, reasons: string[], approval: NonNullable<ApprovalInput['grant']['approval']>): Promise<ApprovalRecord> {
    const now = opts.now();
    const justification = input.justification?.replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim().slice(0, MAX_JUSTIFICATION);
    const record: ApprovalRecord = {
      id: generateId('apr'),
      state: 'pending',
      tokenId: input.token.id,
      policy: input.token.policy,
      fingerprint: input.fingerprint,
      requestId: input.requestId,
      requester: requesterOf(input.token),
      summary: summarizeRequest(input.route, input.body),
      reasons,
      ...(justification && { justification }),
      approvers: approval.approvers,
      usesTotal: approval.uses,
      usesLeft: approval.uses,
      validForSec: approval.validForSec,
      createdAt: now,
      pendingUntil: now + approvals.pendingTimeoutSec * 1000,
    };
    const stored = store.insertUnlessOpen(record);
    if (stored.id !== record.id) return stored;
    await audit({
      ...recordBase(record),
      type: 'approval.requested',
      at: now,
      requestId: input.requestId,
      outcome: 'pending',
      reason: reasons.join('; '),
      data: { approval_id: record.id, policy: record.policy, fingerprint: record.fingerprint, reasons, request: record.summary, approvers: record.approvers, mode: approval.mode, ...(justification && { justification }) },
    });
    if (approvals.webhookUrl !== undefined) {
      void announceApproval(record, { url: approvals.webhookUrl, publicUrl, ...(opts.log && { onError: opts.log }) });
    }
    return record;
  }

  /** Spends one use; false when another request took the last one first. */
  async function use(r: ApprovalRecord, requestId: string): Promise<boolean> {
    if (!store.consume(r.id, opts.now())) return false;
    await audit({ ...recordBase(r), type: 'approval.used', at: opts.now(), requestId, outcome: 'granted', data: { approval_id: r.id, uses_left: r.usesLeft - 1, decided_by: r.decidedBy } });
    return true;
  }

  /** Waits for a decision on `r` (in-process notice, or a poll for other brokers) up to `ms`. */
  async function hold(r: ApprovalRecord, ms: number): Promise<ApprovalRecord> {
    if (ms > 0 && !closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          clearInterval(poll);
          set.delete(done);
          if (set.size === 0) waiters.delete(r.id);
          resolve();
        };
        const timer = setTimeout(done, ms);
        const poll = setInterval(() => {
          try {
            if (store.get(r.id)?.state !== 'pending') done();
          } catch {
            done(); // the store is gone: stop holding, the re-read after the hold reports it
          }
        }, opts.pollMs ?? 500);
        const set = waiters.get(r.id) ?? new Set();
        waiters.set(r.id, set.add(done));
      });
    }
    // Shutting down: the store is closing under us; the request is refused as still pending.
    if (closed) return r;
    await sweep();
    return store.get(r.id) ?? r;
  }

  /** Settles the request against approval `r`: passes on a use, throws the refusal otherwise. */
  async function settle(input: ApprovalInput, r: ApprovalRecord, reasons: string[], approval: NonNullable<ApprovalInput['grant']['approval']>, held: boolean): Promise<void> {
    switch (r.state) {
      case 'approved': {
        if (await use(r, input.requestId)) return;
        // Spent by a concurrent request, or lapsed a moment ago: read what it is now.
        await sweep();
        const now = store.get(r.id);
        return settle(input, now === undefined || now.state === 'approved' ? { ...r, state: 'used' } : now, reasons, approval, held);
      }
      case 'denied':
        throw approvalDenied(r);
      case 'expired':
        throw approvalExpired(r, await request(input, reasons, approval));
      case 'used':
        return settle(input, await request(input, reasons, approval), reasons, approval, held);
      case 'pending': {
        if (approval.mode === 'refuse' || held) throw approvalRequired(r, held);
        const waitMs = Math.min(approval.waitSec * 1000, r.pendingUntil - opts.now());
        return settle(input, await hold(r, waitMs), reasons, approval, true);
      }
    }
  }

  // Config load already validated every `for` entry; parse each policy's list once, not per request.
  const compiled = new WeakMap<readonly string[], ReturnType<typeof compileApprovalRules>>();
  const rulesOf = (entries: readonly string[]) => {
    let rules = compiled.get(entries);
    if (!rules) compiled.set(entries, (rules = compileApprovalRules(entries, 'approval.for', [])));
    return rules;
  };

  async function approve(input: ApprovalInput): Promise<void> {
    const approval = input.grant.approval;
    if (!approval) return;
    const reasons = matchApprovalRules(rulesOf(approval.for), summarizeRequest(input.route, input.body));
    if (reasons.length === 0) return;
    try {
      await sweep();
      const latest = store.latestFor(input.token.id, input.fingerprint);
      await settle(input, latest ?? (await request(input, reasons, approval)), reasons, approval, false);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw approvalsUnavailable();
      throw err;
    }
  }

  async function decide(id: string, decision: 'approve' | 'deny', approver: ApproverIdentity, o: DecideOptions = {}): Promise<ApprovalRecord> {
    await sweep();
    const r = store.get(id);
    if (!r) throw new BrokerError('not_found', 'approval_not_found', `no approval with id ${id} (see skillgate approvals list)`);
    const type = decision === 'approve' ? 'approval.approved' : 'approval.denied';
    const refuse = async (err: BrokerError) => {
      await audit({ ...recordBase(r), type, at: opts.now(), ...(o.requestId !== undefined && { requestId: o.requestId }), outcome: 'refused', reason: err.reason, data: { approval_id: id, by: approver.principal } });
      return err;
    };
    if (!approver.names.some((n) => r.approvers.includes(n))) {
      throw await refuse(policyDenied('not_an_approver', `${approver.principal} (${approver.names.join(', ')}) is not an approver of policy ${r.policy}; its approvers are ${r.approvers.join(', ')}`));
    }
    const same = selfApproval(r.requester, approver);
    if (same !== undefined) throw await refuse(policyDenied('self_approval', `${approver.principal} asked for this request (${same}); a requester cannot approve or deny its own request — ask another approver`));
    if ((o.tokenId !== undefined && o.tokenId !== r.tokenId) || (o.fingerprint !== undefined && o.fingerprint !== r.fingerprint)) {
      throw await refuse(new BrokerError('invalid_request', 'approval_mismatch', `approval ${id} is for another ${o.tokenId !== undefined && o.tokenId !== r.tokenId ? 'token' : 'request'} than the one given; check the id`, {}, 409));
    }
    const decided = store.decide(id, { state: decision === 'approve' ? 'approved' : 'denied', by: approver.principal, at: opts.now(), ...(o.reason !== undefined && { reason: o.reason }) });
    if (!decided) {
      const state = store.get(id)?.state ?? r.state;
      throw await refuse(new BrokerError('invalid_request', 'approval_not_pending', `approval ${id} is ${state}, not pending; only a pending approval can be decided`, {}, 409));
    }
    await audit({
      ...recordBase(decided),
      type,
      at: decided.decidedAt ?? opts.now(),
      ...(o.requestId !== undefined && { requestId: o.requestId }),
      outcome: decided.state,
      ...(o.reason !== undefined && { reason: o.reason }),
      data: { approval_id: id, by: approver.principal, approvers: approver.names, fingerprint: decided.fingerprint, ...(decided.validUntil !== undefined && { valid_until: decided.validUntil, uses: decided.usesTotal }) },
    });
    wake(id);
    return decided;
  }

  return {
    approve,
    decide,
    get: async (id) => {
      await sweep();
      return store.get(id);
    },
    list: async ({ state, approver, limit = 100 }) => {
      await sweep();
      const all = store.list({ ...(state !== undefined && { state }), limit: approver ? 1000 : limit });
      return (approver ? all.filter((r) => approver.names.some((n) => r.approvers.includes(n))) : all).slice(0, limit);
    },
    close: async () => {
      closed = true;
      for (const id of [...waiters.keys()]) wake(id);
      store.close();
    },
  };
}

function requesterOf(token: TokenRecord): Requester {
  const identity = token.identity as unknown as Record<string, unknown>;
  return Object.fromEntries(REQUESTER_CLAIMS.flatMap((c) => (typeof identity[c] === 'string' && identity[c] !== '' ? [[c, identity[c]]] : [])));
}

/** The shared fields of every approval audit record: the session (token id), who asked, the operation. */
function recordBase(r: ApprovalRecord): Omit<AuditRecord, 'type' | 'at'> {
  return { session: r.tokenId, ...identityFields(r.requester), operation: r.summary.operation };
}

/**
 * The requester is the token's subject, the GitHub actor who triggered the run, or the person
 * (sub / email) who minted a personal token; an approver known by any of those names is the
 * requester. Compared case-insensitively: GitHub logins and emails are.
 */
function selfApproval(requester: Requester, approver: ApproverIdentity): string | undefined {
  const mine = new Set(approver.identifiers.map((i) => i.toLowerCase()));
  for (const claim of ['sub', 'actor', 'email'] as const) {
    const value = requester[claim];
    if (value !== undefined && mine.has(value.toLowerCase())) return `${claim} ${value}`;
  }
  return undefined;
}
