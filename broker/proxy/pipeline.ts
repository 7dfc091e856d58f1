import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CompiledPolicy } from '../policy/compile-policies.ts';
import type { createAuthenticator } from './authenticate.ts';
import { authorize } from './authorize.ts';
import { classifyRequest } from './classify.ts';
import { forward, type Upstream } from './forward.ts';
import { guardRequest } from './guard.ts';
import type { Masker } from './mask/masker.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { OpenStreams } from './open-streams.ts';
import { readRequestBody } from './request-body.ts';
import { relayMasked } from './respond.ts';
import { rewriteResultsUrl } from './results-url.ts';

export interface ProxyDeps {
  authenticate: ReturnType<typeof createAuthenticator>;
  policies: ReadonlyMap<string, CompiledPolicy>;
  upstream: Upstream;
  masker: Masker;
  streams: OpenStreams;
  metrics: ProxyMetrics;
  publicUrl: string;
  maxRequestBytes: number;
}

/** What the pipeline learnt, for metrics and logs, even when a later stage refused. */
export interface ProxyTrace {
  operation?: string;
  route?: string;
}

/**
 * `proxyRequest` enforces one call to the Anthropic API:
 * authenticate → classify → authorize → guard → forward → mask.
 * Each stage throws a ProxyError to refuse; none writes a reply but the last.
 */
export async function proxyRequest(request: FastifyRequest, reply: FastifyReply, deps: ProxyDeps, trace: ProxyTrace): Promise<void> {
  const token = await deps.authenticate(request.headers);
  const route = classifyRequest(request.method, request.url, request.headers);
  Object.assign(trace, { operation: route.operation, route: route.route });
  const grant = authorize(route.operation, token, deps.policies.get(token.policy));
  const body = await readRequestBody(request, route, deps.maxRequestBytes);
  const checked = guardRequest({ classified: route, betas: body.betas, body: body.json, uploads: body.uploads, grant, policyName: token.policy });

  const abort = new AbortController();
  // The response closing before it finished means the caller went away: stop paying upstream for it.
  reply.raw.once('close', () => reply.raw.writableFinished || abort.abort());
  const upstream = await forward({ method: request.method, path: route.upstreamPath, clientHeaders: request.headers, body: checked.forwardBody ?? body.raw, signal: abort.signal }, deps.upstream);

  const rewrite = route.operation.startsWith('batches:') ? (b: unknown) => rewriteResultsUrl(b, deps.upstream.origin, deps.publicUrl) : undefined;
  const relayed = await relayMasked(reply, upstream, deps.masker, deps.streams, rewrite);
  reply.raw.once('close', () => deps.metrics.maskedSecrets.inc({ operation: route.operation }, relayed.masked()));
}
