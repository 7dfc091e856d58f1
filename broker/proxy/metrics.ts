import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The proxy's Prometheus metrics. Labels are operations, decisions and reasons: never a token, key or id. */
export interface ProxyMetrics {
  registry: Registry;
  requests: Counter<'operation' | 'decision' | 'reason'>;
  latency: Histogram<'operation' | 'decision'>;
  upstreamErrors: Counter<'operation' | 'status'>;
  maskedSecrets: Counter<'operation'>;
}

/** `createProxyMetrics` makes a fresh registry per app (tests build many apps in one process). */
export function createProxyMetrics(): ProxyMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'skillgate_process_' });
  return {
    registry,
    requests: new Counter({ name: 'skillgate_proxy_requests_total', help: 'Proxied requests by operation and decision (allowed / denied / error).', labelNames: ['operation', 'decision', 'reason'], registers: [registry] }),
    latency: new Histogram({
      name: 'skillgate_proxy_request_duration_seconds',
      help: 'Time from request to response headers, by operation and decision.',
      labelNames: ['operation', 'decision'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 120],
      registers: [registry],
    }),
    upstreamErrors: new Counter({ name: 'skillgate_upstream_errors_total', help: 'Upstream responses with status >= 500 or unreachable upstream.', labelNames: ['operation', 'status'], registers: [registry] }),
    maskedSecrets: new Counter({ name: 'skillgate_masked_secrets_total', help: 'Secrets replaced in responses.', labelNames: ['operation'], registers: [registry] }),
  };
}
