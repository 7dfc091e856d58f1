import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { Config } from '../config/load-config.ts';
import { BrokerError } from '../errors.ts';
import type { IssuerKeys } from '../exchange/issuer-keys.ts';
import type { ApprovalService } from './approval-service.ts';
import type { ApprovalRecord } from './approval-store.ts';
import { createApproverAuth, type ApproverIdentity } from './approver-auth.ts';

export interface ApprovalRouteDeps {
  approvals: ApprovalService;
  config: Pick<Config, 'approvals' | 'operators' | 'issuers'>;
  keys: IssuerKeys;
  now: () => number;
}

const STATES = ['pending', 'approved', 'denied', 'expired', 'used', 'all'] as const;
const ListQuery = Type.Object(
  {
    // Unsafe keeps the literal union in the static type (map() loses it).
    state: Type.Optional(Type.Unsafe<(typeof STATES)[number]>(Type.Union(STATES.map((s) => Type.Literal(s)), { description: 'Default pending.' }))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^apr_[0-9A-Za-z]{16}$' }) });
const DecisionBody = Type.Object(
  {
    reason: Type.Optional(Type.String({ maxLength: 200, description: 'Why, for the audit trail and the requester.' })),
    token_id: Type.Optional(Type.String({ pattern: '^tok_[0-9A-Za-z]{16}$', description: 'Refuse (409) unless the approval is for this token.' })),
    fingerprint: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Refuse (409) unless the approval is for this request fingerprint.' })),
  },
  { additionalProperties: false },
);
const approverAuth = { security: [{ operator: [] }], tags: ['approvals'] };

/** `describeApproval` is the public view of an approval: who asked for what, and where it stands. */
export function describeApproval(r: ApprovalRecord) {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    id: r.id,
    state: r.state,
    policy: r.policy,
    token_id: r.tokenId,
    fingerprint: r.fingerprint,
    request_id: r.requestId,
    requester: r.requester,
    request: { operation: r.summary.operation, route: r.summary.route, models: r.summary.models, tools: r.summary.tools, skills: r.summary.skills, max_tokens: r.summary.maxTokens },
    reasons: r.reasons,
    justification: r.justification,
    approvers: r.approvers,
    uses: { total: r.usesTotal, left: r.usesLeft },
    created_at: iso(r.createdAt),
    pending_until: iso(r.pendingUntil),
    decided_at: iso(r.decidedAt),
    decided_by: r.decidedBy,
    decision_reason: r.decisionReason,
    valid_until: iso(r.validUntil),
    expired_at: iso(r.expiredAt),
  };
}

/**
 * `registerApprovalRoutes` adds the approvers' API: list and read approvals, approve or deny one.
 * Every route authenticates an approver first (operator credential or an approver's ID token).
 */
export function registerApprovalRoutes(app: FastifyInstance, deps: ApprovalRouteDeps): void {
  const authenticate = createApproverAuth({
    approvers: deps.config.approvals.approvers,
    operators: deps.config.operators,
    verify: { issuers: deps.config.issuers, keys: deps.keys, now: deps.now },
  });
  // Held requests would keep a graceful shutdown waiting for their whole hold: let them go first.
  app.addHook('preClose', async () => deps.approvals.close());
  const approvers = new WeakMap<FastifyRequest, ApproverIdentity>();
  // onRequest, not preHandler: a caller without a credential learns nothing from validation errors.
  const onRequest = async (request: FastifyRequest) => void approvers.set(request, await authenticate(request));
  const approverOf = (request: FastifyRequest) => approvers.get(request)!;

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/approvals',
    { schema: { summary: 'List approvals the caller may decide (default: pending)', ...approverAuth, querystring: ListQuery }, onRequest },
    async (request) => {
      const state = request.query.state ?? 'pending';
      const list = await deps.approvals.list({
        approver: approverOf(request),
        ...(state !== 'all' && { state }),
        ...(request.query.limit !== undefined && { limit: request.query.limit }),
      });
      return { data: list.map(describeApproval) };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/approvals/:id',
    { schema: { summary: 'Read one approval', ...approverAuth, params: IdParams }, onRequest },
    async (request) => describeApproval(await find(deps.approvals, request.params.id, approverOf(request))),
  );

  for (const decision of ['approve', 'deny'] as const) {
    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DecisionBody> | undefined }>(
      `/v1/approvals/:id/${decision}`,
      {
        schema: { summary: `${decision === 'approve' ? 'Approve' : 'Deny'} a pending approval (an approver other than the requester)`, ...approverAuth, params: IdParams, body: DecisionBody },
        onRequest,
        // The body is optional: fastify would validate an absent one as `undefined` and refuse it.
        preValidation: async (request) => void (request.body ??= {}),
      },
      async (request) => {
        const body = request.body ?? {};
        const decided = await deps.approvals.decide(request.params.id, decision, approverOf(request), {
          requestId: request.id,
          ...(body.reason !== undefined && { reason: body.reason }),
          ...(body.token_id !== undefined && { tokenId: body.token_id }),
          ...(body.fingerprint !== undefined && { fingerprint: body.fingerprint }),
        });
        return describeApproval(decided);
      },
    );
  }
}

/** An approval the caller is no approver of is reported as absent: its existence is not the caller's business. */
async function find(approvals: ApprovalService, id: string, approver: ApproverIdentity): Promise<ApprovalRecord> {
  const r = await approvals.get(id);
  if (!r || !approver.names.some((n) => r.approvers.includes(n))) throw new BrokerError('not_found', 'approval_not_found', `no approval with id ${id} that you may decide`);
  return r;
}
