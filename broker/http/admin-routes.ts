import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { BrokerError } from '../errors.ts';
import { identityFields, recordEvent } from '../audit/record-event.ts';
import type { Store, TokenRecord } from '../store/store.ts';
import type { createOperatorAuth } from './operator-auth.ts';

const ListQuery = Type.Object(
  { active: Type.Optional(Type.Boolean()), policy: Type.Optional(Type.String()), repository_id: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^tok_[0-9A-Za-z]{16}$' }) });
const RevokeBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });

/** `describeToken` is the public view of a token: everything but the hash. */
export function describeToken(t: TokenRecord, now: number) {
  return {
    id: t.id,
    policy: t.policy,
    issuer: t.issuer,
    scopes: t.scopes,
    identity: t.identity,
    issued_at: new Date(t.issuedAt).toISOString(),
    expires_at: new Date(t.expiresAt).toISOString(),
    state: t.revokedAt !== undefined ? 'revoked' : t.expiresAt <= now ? 'expired' : 'active',
    ...(t.revokedAt !== undefined && { revoked_at: new Date(t.revokedAt).toISOString(), revoked_reason: t.revokedReason, revoked_by: t.revokedBy }),
  };
}

/** `registerAdminRoutes` adds operator routes to list and revoke tokens by id. */
export function registerAdminRoutes(app: FastifyInstance, deps: { store: Store; now: () => number; requireOperator: ReturnType<typeof createOperatorAuth> }): void {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/tokens',
    // onRequest, not preHandler: a caller without the credential learns nothing from validation errors.
    { schema: { summary: 'List tokens (operator)', tags: ['operators'], querystring: ListQuery }, onRequest: async (req) => void deps.requireOperator(req) },
    async (request) => {
      const q = request.query;
      const tokens = await deps.store.listTokens({
        now: deps.now(),
        ...(q.active !== undefined && { active: q.active }),
        ...(q.policy !== undefined && { policy: q.policy }),
        ...(q.repository_id !== undefined && { repositoryId: q.repository_id }),
        ...(q.limit !== undefined && { limit: q.limit }),
      });
      return { data: tokens.map((t) => describeToken(t, deps.now())) };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RevokeBody> | undefined }>(
    '/v1/tokens/:id/revoke',
    {
      schema: { summary: 'Revoke a token by id (operator)', tags: ['operators'], params: IdParams, body: RevokeBody },
      onRequest: async (req) => void deps.requireOperator(req),
      // The body is optional: fastify would validate an absent one as `undefined` and refuse it.
      preValidation: async (req) => void (req.body ??= {}),
    },
    async (request) => {
      const operator = deps.requireOperator(request);
      const token = await deps.store.getToken(request.params.id);
      if (!token) throw new BrokerError('not_found', 'token_not_found', `no token with id ${request.params.id}`);
      const reason = request.body?.reason ?? 'revoked_by_operator';
      if (await deps.store.revokeToken(token.id, reason, `operator:${operator.name}`, deps.now())) {
        await recordEvent(deps.store, { type: 'token.revoke', at: deps.now(), outcome: 'revoked', reason, requestId: request.id, session: token.id, ...identityFields(token.identity), data: { policy: token.policy, by: `operator:${operator.name}` } });
      }
      return describeToken((await deps.store.getToken(token.id))!, deps.now());
    },
  );
}
