import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Pool } from 'undici';
import type { Config } from '../config/load-config.ts';
import { createCredentialProvider, type CredentialProvider } from '../credentials/index.ts';
import type { Store } from '../store/store.ts';
import { createApprovalGate } from '../approvals/approval-service.ts';
import { recordEvent } from '../audit/record-event.ts';
import { createBudgetGate } from '../budgets/create-budget-gate.ts';
import { generateId } from '../exchange/token-format.ts';
import { createAuthenticator } from './authenticate.ts';
import { createProxyAudit } from './record.ts';
import { createMasker, type Masker } from './mask/masker.ts';
import { createProxyMetrics } from './metrics.ts';
import { createOpenStreams } from './open-streams.ts';
import { watchRevokedStreams } from './revoked-streams.ts';
import { proxyRequest, type ProxyDeps, type ProxyTrace } from './pipeline.ts';
import { anthropicErrorBody, ProxyError } from './proxy-error.ts';

/** How much of each request and response body the audit trail keeps for replay. */
const AUDIT_BODY_BYTES = 64 * 1024;

/** `createProxyDeps` builds the proxy's parts from config: pool, credential, masker, metrics. */
export function createProxyDeps(config: Config, store: Store, now: () => number, instanceId = generateId('brk')): ProxyDeps | undefined {
  if (!config.upstream) return undefined;
  const u = config.upstream;
  const masker = createMasker({
    exactValues: [...config.masking.values, ...config.policies.flatMap((p) => p.grant.masking?.values ?? [])],
    patterns: [...config.masking.patterns, ...config.policies.flatMap((p) => p.grant.masking?.patterns ?? [])].map((p) => ({ name: p.name, regex: new RegExp(p.regex, 'gu') })),
  });
  const credential = maskEveryKey(
    createCredentialProvider(u.credential, { baseDir: config.baseDir, refreshIntervalMs: u.refreshIntervalSec * 1000, staleWindowMs: u.staleWindowSec * 1000, now }),
    masker,
  );
  const approvals = createApprovalGate({ storePath: config.storePath, config, now, audit: (record) => recordEvent(store, record) });
  const budgets = createBudgetGate({ storePath: config.storePath, now });
  const pool = new Pool(u.origin, { connections: 256, connectTimeout: 10_000, keepAliveTimeout: 30_000 });
  const streams = createOpenStreams();
  const stopWatching = watchRevokedStreams(store, streams);
  return {
    authenticate: createAuthenticator(store, now),
    policies: new Map(config.policies.map((p) => [p.name, p])),
    approvals,
    budgets,
    audit: createProxyAudit(store, masker, { bodyBytes: AUDIT_BODY_BYTES, now, instanceId }),
    auditBodyBytes: AUDIT_BODY_BYTES,
    now,
    upstream: {
      origin: u.origin,
      pool,
      credential,
      headersTimeoutMs: u.responseTimeoutSec * 1000,
      bodyTimeoutMs: u.responseTimeoutSec * 1000,
    },
    masker,
    streams,
    metrics: createProxyMetrics(),
    publicUrl: config.publicUrl,
    maxRequestBytes: u.maxRequestBytes,
    close: async () => {
      stopWatching();
      await approvals.close();
      budgets.close();
      credential.close();
      await pool.close();
    },
  };
}

/** The upstream key itself is a known secret: whatever value the provider hands out is masked in responses. */
function maskEveryKey(provider: CredentialProvider, masker: Masker): CredentialProvider {
  const seen = new Set<string>();
  const remember = (key: string) => {
    if (!seen.has(key)) {
      seen.add(key);
      masker.addExactValue(key);
    }
    return key;
  };
  return {
    current: () => provider.current().then(remember),
    refreshAfterRejection: (rejected) => provider.refreshAfterRejection(rejected).then(remember),
    isUsable: () => provider.isUsable(),
    close: () => provider.close(),
  };
}

/**
 * `registerProxyRoutes` serves the Anthropic API surface: every path the broker's own routes do
 * not claim goes through the enforcing pipeline. The scope reads bodies as raw bytes (guard parses
 * them strictly) and answers errors in Anthropic's envelope so SDKs raise typed errors.
 */
export async function registerProxyRoutes(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxRequestBytes }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((err: FastifyError, request, reply) => replyProxyError(err, request, reply, deps));
    // Authenticate before the body is read: an anonymous caller must not make the broker buffer an upload.
    scope.addHook('onRequest', async (request, reply) => {
      // A streamed reply carries pipe, abort, audit and fastify listeners: more than Node's default 10.
      reply.raw.setMaxListeners(32);
      if (hostHeaders(request.raw.rawHeaders) > 1) {
        throw new ProxyError(400, 'invalid_request_error', 'duplicate_host', 'send exactly one Host header');
      }
      const trace: ProxyTrace = {};
      (request as { proxyTrace?: ProxyTrace }).proxyTrace = trace;
      trace.token = await deps.authenticate(request.headers);
    });
    scope.all('/*', async (request, reply) => {
      const trace = (request as { proxyTrace?: ProxyTrace }).proxyTrace ?? {};
      const end = deps.metrics.latency.startTimer();
      await proxyRequest(request, reply, deps, trace);
      const operation = trace.operation ?? 'unclassified';
      deps.metrics.requests.inc({ operation, decision: 'allowed', reason: 'none' });
      if (reply.statusCode >= 500) deps.metrics.upstreamErrors.inc({ operation, status: String(reply.statusCode) });
      end({ operation, decision: 'allowed' });
      return reply;
    });
  });
}

async function replyProxyError(err: FastifyError, request: FastifyRequest, reply: FastifyReply, deps: ProxyDeps): Promise<FastifyReply> {
  const e = toProxyError(err);
  const trace = (request as { proxyTrace?: ProxyTrace }).proxyTrace;
  const operation = trace?.operation ?? 'unclassified';
  await deps.audit.denied(request.id, trace?.token, trace?.operation, e, trace?.recorded ? undefined : trace?.body);
  const decision = e.status >= 500 ? 'error' : 'denied';
  deps.metrics.requests.inc({ operation, decision, reason: e.reason });
  if (e.reason === 'upstream_unreachable') deps.metrics.upstreamErrors.inc({ operation, status: 'unreachable' });
  if (e.status >= 500) request.log.error({ reason: e.reason, err: { name: err.name, message: err.message } }, 'proxy request failed');
  else request.log.info({ reason: e.reason, operation }, 'proxy request refused');
  return reply.status(e.status).header('x-should-retry', e.status === 503 ? 'true' : 'false').send(anthropicErrorBody(e, request.id));
}

function toProxyError(err: FastifyError): ProxyError {
  if (err instanceof ProxyError) return err;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ProxyError(413, 'request_too_large', 'body_too_large', 'the request body is larger than this proxy accepts');
  if (err.statusCode !== undefined && err.statusCode < 500) return new ProxyError(400, 'invalid_request_error', 'malformed_request', 'the request could not be read');
  return new ProxyError(500, 'api_error', 'internal', 'internal error; the request id identifies it in the broker logs');
}

/** How many Host headers a request carries (`headersDistinct` would build a copy of every header to tell). */
function hostHeaders(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') count++;
  return count;
}
