import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { authenticateToken, bearerToken } from '../auth/authenticate-token.ts';
import { invalidRequest } from '../errors.ts';
import { identityFields, recordEvent } from '../audit/record-event.ts';
import { exchangeToken, type ExchangeDeps } from '../exchange/exchange.ts';
import { hashToken, isWellFormedToken } from '../exchange/token-format.ts';
import { describeToken } from './admin-routes.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const ExchangeBody = Type.Object(
  {
    grant_type: Type.Literal(TOKEN_EXCHANGE_GRANT),
    subject_token: Type.String({ minLength: 1, description: 'The OIDC ID token (a GitHub Actions token or an IdP ID token).' }),
    subject_token_type: Type.Union([Type.Literal('urn:ietf:params:oauth:token-type:id_token'), Type.Literal('urn:ietf:params:oauth:token-type:jwt')]),
    scope: Type.Optional(Type.String({ description: 'Space-separated subset of the policy grant\u2019s scopes.' })),
    requested_ttl: Type.Optional(Type.Integer({ minimum: 1, description: 'Seconds; capped by the policy\u2019s ttl.' })),
    requested_token_type: Type.Optional(Type.Literal(ACCESS_TOKEN_TYPE)),
    audience: Type.Optional(Type.String()),
    resource: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const ExchangeResponse = Type.Object({
  access_token: Type.String(),
  issued_token_type: Type.Literal(ACCESS_TOKEN_TYPE),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
  token_id: Type.String({ description: 'Public id of the token (also the audit session id).' }),
  expires_at: Type.String({ format: 'date-time' }),
  policy: Type.String(),
});

const ErrorBody = Type.Object({
  error: Type.String(),
  reason: Type.String(),
  message: Type.String(),
  error_description: Type.String(),
  request_id: Type.String(),
});

const RevokeBody = Type.Object(
  { token: Type.String({ minLength: 1 }), token_type_hint: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

/** `registerTokenRoutes` adds the RFC 8693 exchange and the RFC 7009 revocation endpoints. */
export function registerTokenRoutes(app: FastifyInstance, deps: ExchangeDeps): void {
  app.post<{ Body: Static<typeof ExchangeBody> }>(
    '/v1/token',
    {
      bodyLimit: 64 * 1024,
      schema: {
        summary: 'Exchange an OIDC ID token for a short-lived skillgate token (RFC 8693)',
        tags: ['tokens'],
        body: ExchangeBody,
        response: { 200: ExchangeResponse, '4xx': ErrorBody, '5xx': ErrorBody },
      },
      preValidation: async (request) => {
        refuseQueryString(request.url);
        // Exactly one credential: a second one (header) makes it ambiguous which identity is asking.
        if (request.headers.authorization !== undefined) {
          throw invalidRequest('duplicate_credentials', 'send the ID token only as subject_token in the body, without an Authorization header');
        }
      },
    },
    async (request, reply) => {
      const body = request.body;
      const minted = await exchangeToken(
        {
          subjectToken: body.subject_token,
          requestId: request.id,
          ...(body.scope !== undefined && { scope: body.scope }),
          ...(body.requested_ttl !== undefined && { requestedTtlSec: body.requested_ttl }),
        },
        deps,
      );
      const { record } = minted;
      reply.header('cache-control', 'no-store');
      return {
        access_token: minted.token,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: Math.round((record.expiresAt - record.issuedAt) / 1000),
        scope: record.scopes.join(' '),
        token_id: record.id,
        expires_at: new Date(record.expiresAt).toISOString(),
        policy: record.policy,
      };
    },
  );

  app.post<{ Body: Static<typeof RevokeBody> }>(
    '/v1/token/revoke',
    {
      bodyLimit: 16 * 1024,
      schema: { summary: 'Revoke a skillgate token (RFC 7009); holding the token is the authority to revoke it', tags: ['tokens'], body: RevokeBody },
      preValidation: async (request) => refuseQueryString(request.url),
    },
    async (request, reply) => {
      const { token } = request.body;
      // RFC 7009 §2.2: answer 200 for unknown tokens too, so the endpoint cannot probe tokens.
      if (isWellFormedToken(token)) {
        const record = await deps.store.findTokenByHash(hashToken(token));
        if (record && (await deps.store.revokeToken(record.id, 'revoked_by_holder', 'holder', deps.now()))) {
          await recordEvent(deps.store, { type: 'token.revoke', at: deps.now(), outcome: 'revoked', reason: 'revoked_by_holder', requestId: request.id, session: record.id, ...identityFields(record.identity), data: { policy: record.policy, by: 'holder' } });
        }
      }
      reply.header('cache-control', 'no-store');
      return {};
    },
  );
}

/** `registerWhoamiRoute` lets a token holder see what its token is bound to (and whether it still works). */
export function registerWhoamiRoute(app: FastifyInstance, deps: ExchangeDeps): void {
  app.get('/v1/whoami', { schema: { summary: 'Describe the presented skillgate token (Authorization: Bearer)', tags: ['tokens'] } }, async (request) => {
    const record = await authenticateToken(deps.store, bearerToken(request.headers.authorization), deps.now());
    return describeToken(record, deps.now());
  });
}

/** Parameters in the URL end up in access logs and proxies' logs; they belong in the body. */
function refuseQueryString(url: string): void {
  const q = url.indexOf('?');
  if (q !== -1 && q < url.length - 1) {
    throw invalidRequest('parameters_in_url', 'send the parameters in the request body, never in the URL');
  }
}
