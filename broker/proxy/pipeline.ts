import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApprovalService } from '../approvals/approval-service.ts';
import type { BudgetGate, BudgetReservation } from '../budgets/budget-gate.ts';
import type { CompiledPolicy } from '../policy/compile-policies.ts';
import type { TokenRecord } from '../store/store.ts';
import type { createAuthenticator } from './authenticate.ts';
import { authorize } from './authorize.ts';
import { classifyRequest } from './classify.ts';
import { CallerGone, forward, type Upstream } from './forward.ts';
import { guardRequest } from './guard.ts';
import type { Masker } from './mask/masker.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { ClassifiedRequest } from './operation.ts';
import type { OpenStreams } from './open-streams.ts';
import type { ProxyAudit } from './record.ts';
import { readRequestBody } from './request-body.ts';
import { relayMasked } from './respond.ts';
import { rewriteResultsUrl } from './results-url.ts';

export interface ProxyDeps {
  authenticate: ReturnType<typeof createAuthenticator>;
  policies: ReadonlyMap<string, CompiledPolicy>;
  approvals: ApprovalService;
  budgets: BudgetGate;
  audit: ProxyAudit;
  upstream: Upstream;
  masker: Masker;
  streams: OpenStreams;
  metrics: ProxyMetrics;
  publicUrl: string;
  maxRequestBytes: number;
  auditBodyBytes: number;
  now: () => number;
  /** Releases what the proxy holds open (pool, store connections of approvals and budgets). */
  close(): Promise<void>;
}

/** What the pipeline learnt, for metrics, logs and the denial record, even when a later stage refused. */
export interface ProxyTrace {
  token?: TokenRecord;
  operation?: string;
  route?: string;
  /** The request as read, so a refusal after reading it can record what was asked. */
  body?: { json: Record<string, unknown> | undefined; uploads: unknown };
  /** The write-ahead `request` record is committed: a later refusal need not restate the body. */
  recorded?: boolean;
}

/**
 * `proxyRequest` enforces one call to the Anthropic API:
 * authenticate → classify → authorize → guard → approve → budget → record(request) → forward → mask → record(outcome).
 * Each stage throws a ProxyError to refuse; none writes a reply but the mask stage.
 */
export async function proxyRequest(request: FastifyRequest, reply: FastifyReply, deps: ProxyDeps, trace: ProxyTrace): Promise<void> {
  const startedAt = deps.now();
  const token = (trace.token ??= await deps.authenticate(request.headers));
  const route = classifyRequest(request.method, request.url, request.headers);
  Object.assign(trace, { operation: route.operation, route: route.route });
  const grant = authorize(route.operation, token, deps.policies.get(token.policy));
  const body = await readRequestBody(request, route, deps.maxRequestBytes);
  trace.body = { json: body.json, uploads: body.uploads };
  const forwardBody = guardRequest({ classified: route, betas: body.betas, body: body.json, uploads: body.uploads, grant, policyName: token.policy }).forwardBody ?? body.raw;
  if (grant.approval) {
    await deps.approvals.approve({ token, grant, route, body: body.json, fingerprint: fingerprint(request.method, route.upstreamPath, forwardBody), requestId: request.id, ...justification(request) });
    await deps.authenticate(request.headers); // a hold can last minutes: a token revoked meanwhile must not go through
  }
  const reservation = await deps.budgets.reserve({ token, grant, route, body: body.json });
  await deps.audit.request(request.id, token, route, body.json, body.uploads).catch(async (err: unknown) => {
    await reservation.settle({ inputTokens: 0, outputTokens: 0 });
    throw err;
  });
  trace.recorded = true;
  const call: Call = { token, route, startedAt, reservation };
  const relayed = await forwardAndMask(request, reply, deps, call, forwardBody);
  void relayed.done.then(async (end) => {
    deps.metrics.maskedSecrets.inc({ operation: route.operation }, end.masked);
    // Error answers are not billed; a call that did not end cleanly keeps its hold (its usage may be short).
    await reservation.settle(end.status >= 400 ? { inputTokens: 0, outputTokens: 0 } : end.ended === 'complete' ? end.usage : undefined);
    await deps.audit.outcome(request.id, token, route, end, startedAt);
  });
}

interface Call {
  token: TokenRecord;
  route: ClassifiedRequest;
  startedAt: number;
  reservation: BudgetReservation;
}

/** forward → mask. A failure before anything usable came back is recorded as the call's outcome. */
async function forwardAndMask(request: FastifyRequest, reply: FastifyReply, deps: ProxyDeps, call: Call, body: Buffer | undefined) {
  const abort = new CallerGone();
  // The response closing before it finished means the caller went away: stop paying upstream for it.
  reply.raw.once('close', () => reply.raw.writableFinished || abort.abort());
  try {
    const upstream = await forward({ method: request.method, path: call.route.upstreamPath, clientHeaders: request.headers, body, signal: abort }, deps.upstream);
    const rewrite = call.route.operation.startsWith('batches:') ? (b: unknown) => rewriteResultsUrl(b, deps.upstream.origin, deps.publicUrl) : undefined;
    return await relayMasked(reply, upstream, deps.masker, deps.streams, { captureBytes: deps.auditBodyBytes, tokenId: call.token.id, ...(rewrite && { rewrite }) });
  } catch (err) {
    // What upstream charged is unknown, so the budget hold stays spent.
    await call.reservation.settle(undefined);
    await deps.audit.outcome(request.id, call.token, call.route, { status: 502, ended: 'upstream_error', masked: 0 }, call.startedAt);
    throw err;
  }
}

/** The exact request an approval is bound to: method, upstream path and the bytes that would be forwarded. */
function fingerprint(method: string, path: string, body: Buffer | undefined): string {
  const hash = createHash('sha256').update(`${method} ${path}\n`);
  if (body) hash.update(body);
  return hash.digest('hex');
}

function justification(request: FastifyRequest): { justification?: string } {
  const value = request.headers['x-skillgate-justification'];
  return typeof value === 'string' && value.trim() !== '' ? { justification: value.trim().slice(0, 500) } : {};
}
