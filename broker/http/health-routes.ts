import type { FastifyInstance } from 'fastify';

/** A named condition /readyz reports; `check` resolves true when that dependency is usable. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

/**
 * `/healthz` says the process is alive; `/readyz` says it can do its job: store reachable and
 * every trusted issuer's keys fetched. A load balancer keeps traffic away until then.
 */
export function registerHealthRoutes(app: FastifyInstance, checks: readonly ReadinessCheck[], isShuttingDown: () => boolean): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['operations'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'Readiness: config, store and issuer keys usable', tags: ['operations'] } }, async (_request, reply) => {
    const results: Record<string, 'ok' | 'unavailable'> = { config: 'ok' };
    for (const c of checks) results[c.name] = (await c.check().catch(() => false)) ? 'ok' : 'unavailable';
    if (isShuttingDown()) results['shutdown'] = 'unavailable';
    const ready = Object.values(results).every((r) => r === 'ok');
    return reply.status(ready ? 200 : 503).send({ ready, checks: results });
  });
}
