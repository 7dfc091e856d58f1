import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import { authenticateToken, bearerToken } from '../auth/authenticate-token.ts';
import { BrokerError } from '../errors.ts';
import type { createOperatorAuth } from '../http/operator-auth.ts';
import type { CompiledPolicy } from '../policy/compile-policies.ts';
import type { Store, TokenRecord } from '../store/store.ts';
import { auditFilter, CHECKPOINT_PATTERN, parseCheckpoint } from './audit-record.ts';
import { buildTranscript, renderMarkdown } from './render-session.ts';

const VerifyQuery = Type.Object(
  { checkpoint: Type.Optional(Type.String({ pattern: CHECKPOINT_PATTERN, description: 'A link written down earlier, `<seq>:<hash>` (the broker logs one as `audit_checkpoint`): the trail must still reach it with that hash.' })) },
  { additionalProperties: false },
);

const EventsQuery = Type.Object(
  {
    type: Type.Optional(Type.String()),
    session: Type.Optional(Type.String()),
    repository: Type.Optional(Type.String()),
    repository_id: Type.Optional(Type.String()),
    run_id: Type.Optional(Type.String()),
    pr: Type.Optional(Type.String()),
    actor: Type.Optional(Type.String()),
    operation: Type.Optional(Type.String()),
    outcome: Type.Optional(Type.String()),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    cursor: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('ndjson')])),
  },
  { additionalProperties: false },
);
const SessionParams = Type.Object({ id: Type.String({ pattern: '^tok_[0-9A-Za-z]{16}$' }) });
const SessionQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('md')])) }, { additionalProperties: false });

export interface AuditRouteDeps {
  store: Store;
  policies: readonly CompiledPolicy[];
  now: () => number;
  requireOperator: ReturnType<typeof createOperatorAuth>;
}

/** Who is reading: an operator reads everything; a token reads its own session, or with audit:read its repository. */
type Reader = { kind: 'operator' } | { kind: 'token'; token: TokenRecord; repositoryId: string | undefined };

/** `registerAuditRoutes` adds the audit API: events (filters, cursor, NDJSON), session replay and chain verification. */
export function registerAuditRoutes(app: FastifyInstance, deps: AuditRouteDeps): void {
  const reader = async (request: FastifyRequest): Promise<Reader> => {
    try {
      deps.requireOperator(request);
      return { kind: 'operator' };
    } catch {
      const token = await authenticateToken(deps.store, bearerToken(request.headers.authorization), deps.now());
      const policy = deps.policies.find((p) => p.name === token.policy);
      const wide = token.scopes.includes('audit:read') && policy?.grant.scopes.includes('audit:read') === true;
      return { kind: 'token', token, repositoryId: wide ? token.identity.repository_id : undefined };
    }
  };

  app.get<{ Querystring: Static<typeof EventsQuery> }>(
    '/v1/audit/events',
    { schema: { summary: 'Audit records, oldest first, filtered; cursor pagination; NDJSON with format=ndjson', tags: ['audit'], querystring: EventsQuery } },
    async (request, reply) => {
      const who = await reader(request);
      const q = request.query;
      const filter = auditFilter({
        type: q.type,
        session: q.session,
        repository: q.repository,
        repositoryId: q.repository_id,
        runId: q.run_id,
        pr: q.pr,
        actor: q.actor,
        operation: q.operation,
        outcome: q.outcome,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        until: q.until === undefined ? undefined : Date.parse(q.until),
        after: q.cursor,
        limit: q.limit,
      });
      // A CI token sees its own repository (with audit:read) or only its own session, whatever it asks for.
      if (who.kind === 'token') {
        if (who.repositoryId !== undefined) {
          if (filter.repositoryId !== undefined && filter.repositoryId !== who.repositoryId) throw forbidden();
          filter.repositoryId = who.repositoryId;
        } else {
          if (filter.session !== undefined && filter.session !== who.token.id) throw forbidden();
          filter.session = who.token.id;
        }
      }
      const { records, nextCursor } = await deps.store.queryAudit(filter);
      reply.header('cache-control', 'no-store');
      if (q.format === 'ndjson') return reply.type('application/x-ndjson').send(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
      return { data: records, next_cursor: nextCursor ?? null };
    },
  );

  app.get<{ Params: Static<typeof SessionParams>; Querystring: Static<typeof SessionQuery> }>(
    '/v1/audit/sessions/:id',
    { schema: { summary: 'Replay one session (all calls made with one token) as JSON or Markdown', tags: ['audit'], params: SessionParams, querystring: SessionQuery } },
    async (request, reply) => {
      const who = await reader(request);
      const token = await deps.store.getToken(request.params.id);
      const records = await deps.store.auditSession(request.params.id);
      if (!token && records.length === 0) throw new BrokerError('not_found', 'session_not_found', `no session ${request.params.id}`);
      if (who.kind === 'token' && who.token.id !== request.params.id && (who.repositoryId === undefined || token?.identity.repository_id !== who.repositoryId)) throw forbidden();
      const transcript = buildTranscript(request.params.id, token, records);
      reply.header('cache-control', 'no-store');
      if (request.query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(renderMarkdown(transcript));
      return transcript;
    },
  );

  app.get<{ Querystring: Static<typeof VerifyQuery> }>(
    '/v1/audit/verify',
    { schema: { summary: 'Verify the hash chain of the whole audit trail, and that it still reaches a checkpoint (operator)', tags: ['audit'], querystring: VerifyQuery } },
    async (request) => {
      deps.requireOperator(request);
      const { checkpoint } = request.query;
      return deps.store.verifyAudit(checkpoint === undefined ? undefined : parseCheckpoint(checkpoint));
    },
  );
}

const forbidden = () => new BrokerError('policy_denied', 'audit_scope', 'this token may read only its own session, or its own repository with the audit:read scope');

