import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config/load-config.ts';
import type { IssuerKeys } from './exchange/issuer-keys.ts';
import { invalidRequest } from './errors.ts';
import { generateId } from './exchange/token-format.ts';
import { parseStrictJson, StrictJsonError } from './json/strict-json.ts';
import { registerApprovalRoutes } from './approvals/approval-routes.ts';
import { registerAuditRoutes } from './audit/audit-routes.ts';
import { registerAdminRoutes } from './http/admin-routes.ts';
import { replyWithError } from './http/error-reply.ts';
import { registerHealthRoutes, type ReadinessCheck } from './http/health-routes.ts';
import { createOperatorAuth } from './http/operator-auth.ts';
import { registerTokenRoutes, registerWhoamiRoute } from './http/token-routes.ts';
import type { ProxyDeps } from './proxy/pipeline.ts';
import { registerProxyRoutes } from './proxy/proxy-routes.ts';
import { registerReportRoutes } from './reconcile/report-routes.ts';
import type { Lifecycle } from './shutdown.ts';
import type { Store } from './store/store.ts';

/** Everything the app needs, passed in: no module-level singletons, so tests build apps freely. */
export interface Deps {
  config: Config;
  store: Store;
  keys: IssuerKeys;
  now: () => number;
  /** The enforcing proxy; absent when the config has no upstream (exchange-only broker). */
  proxy?: ProxyDeps;
  /** Set to draining by shutDown; readiness reports it. */
  lifecycle?: Lifecycle;
  /** fastify logger option: false in tests that do not look at logs, a pino instance otherwise. */
  logger?: FastifyServerOptions['loggerInstance'] | boolean;
}

/** `buildApp` assembles the broker's HTTP app without listening (server.ts listens). */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(typeof deps.logger === 'object' ? { loggerInstance: deps.logger } : { logger: deps.logger ?? false }),
    genReqId: requestIds(),
    requestIdHeader: false,
    // fastify's own request lines would log the raw URL (and any token someone put in it).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    // Unknown query and body keys are refused, not silently dropped: a misspelt filter must not widen a query.
    ajv: { customOptions: { removeAdditional: false } },
    // fastify answers a malformed URL before routing, quoting the URL and skipping onRequest hooks.
    frameworkErrors: (err, request, reply) => void replyWithError(err, request, reply.header('request-id', request.id)),
  });
  const lifecycle = deps.lifecycle ?? { draining: false };
  app.addHook('onClose', async () => void (lifecycle.draining = true));
  app.addHook('onRequest', async (request, reply) => void reply.header('request-id', request.id));
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) => replyWithError(Object.assign(new Error('not found'), { statusCode: 404 }), request, reply));

  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // The broker's own JSON bodies are parsed strictly: a second subject_token must not win silently.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseStrictJson(body as string));
    } catch (err) {
      const problem = err instanceof StrictJsonError ? err.problem : 'invalid_json';
      done(invalidRequest(problem === 'invalid_json' ? 'malformed_body' : problem, `the request body ${err instanceof Error ? err.message : 'is not valid JSON'}`));
    }
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'skillgate broker API', version: '0.1.0', description: 'Token exchange, revocation and operations of the skillgate broker.' },
      components: { securitySchemes: { operator: { type: 'http', scheme: 'bearer' } } },
    },
  });

  const { config, store, keys, now } = deps;
  const exchangeDeps = { issuers: config.issuers, policies: config.policies, keys, store, now };
  registerTokenRoutes(app, exchangeDeps);
  registerWhoamiRoute(app, exchangeDeps);
  const requireOperator = createOperatorAuth(config.operators);
  registerAdminRoutes(app, { store, now, requireOperator });
  registerAuditRoutes(app, { store, now, requireOperator, policies: config.policies });
  registerReportRoutes(app, { store, requireOperator });
  registerHealthRoutes(app, readinessChecks(deps), () => lifecycle.draining);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (deps.proxy) {
    registerApprovalRoutes(app, { approvals: deps.proxy.approvals, config, keys, now });
    await registerProxyRoutes(app, deps.proxy);
  }
  return app;
}

/** Request ids: a random per-process prefix and a counter — unique, unguessable enough, and no syscall per request. */
function requestIds(): () => string {
  const prefix = generateId('req');
  let n = 0;
  return () => `${prefix}${(++n).toString(36)}`;
}

function readinessChecks({ config, store, keys, proxy }: Deps): ReadinessCheck[] {
  return [
    { name: 'store', check: () => store.ping().then(() => true) },
    ...(proxy
      ? [
          { name: 'upstream_credential', check: async () => proxy.upstream.credential.isUsable() || (await proxy.upstream.credential.current().then(() => true)) },
          // After a failed audit write, ready again only once the store takes writes.
          { name: 'audit', check: async () => proxy.audit.isHealthy() || (await store.probeWrite().then(() => (proxy.audit.markHealthy(), true))) },
        ]
      : []),
    // Only issuers some policy uses: an unused built-in github issuer must not keep an offline broker unready.
    ...config.issuers.filter((spec) => config.policies.some((p) => p.issuer === spec)).map((spec) => ({
      name: `issuer:${spec.name}`,
      // A cold issuer is warmed on demand, so readiness turns true as soon as its keys arrive.
      check: async () => keys.isWarm(spec) || (await keys.warm(spec).then(() => true)),
    })),
  ];
}
