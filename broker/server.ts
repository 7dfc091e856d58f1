import { hostname } from 'node:os';
import { pino } from 'pino';
import { buildApp } from './app.ts';
import type { Config } from './config/load-config.ts';
import { createIssuerKeys } from './exchange/issuer-keys.ts';
import { generateId } from './exchange/token-format.ts';
import { createProxyDeps } from './proxy/proxy-routes.ts';
import { shutDown } from './shutdown.ts';
import { openSqliteStore } from './store/sqlite-store.ts';
import { logAuditCheckpoints } from './audit/checkpoints.ts';

/** How long open requests and streams may run on after SIGTERM before streams are ended. */
const SHUTDOWN_GRACE_MS = 25_000;
/** How often a broker marks itself alive in the store. */
const HEARTBEAT_MS = 10_000;

/** `serve` starts the broker for a loaded config and stops it cleanly on SIGTERM / SIGINT. */
export async function serve(config: Config, listen = config.listen): Promise<void> {
  const logger = pino({
    level: config.logLevel,
    // Defence in depth: even if a credential header were ever logged, it is redacted.
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.subject_token', '*.access_token', '*.token'], censor: '[redacted]' },
  });
  for (const warning of config.warnings) logger.warn({ config: config.source }, warning);
  const store = openSqliteStore(config.storePath);
  const keys = createIssuerKeys();
  // Calls cut short by a crash have a request record and no outcome: close them before serving —
  // but only those of processes that stopped beating, never a live replica's calls in flight.
  const instance = { id: generateId('brk'), pid: process.pid, host: hostname() };
  await store.heartbeat(instance, Date.now());
  const beat = setInterval(() => void store.heartbeat(instance, Date.now()).catch(() => undefined), HEARTBEAT_MS);
  beat.unref();
  const interrupted = await store.closeInterrupted(Date.now(), 3 * HEARTBEAT_MS);
  if (interrupted > 0) logger.warn({ interrupted }, 'closed proxied calls left open by a stopped broker as interrupted');
  const proxy = createProxyDeps(config, store, Date.now, instance.id);
  const lifecycle = { draining: false };
  const app = await buildApp({ config, store, keys, now: Date.now, logger, lifecycle, ...(proxy && { proxy }) });

  // Warm every issuer's keys in the background: readiness turns true when they arrive.
  for (const spec of config.issuers.filter((i) => config.policies.some((p) => p.issuer === i))) {
    keys.warm(spec).catch((err: Error) => logger.warn({ issuer: spec.name }, `issuer keys not available yet: ${err.message}`));
  }
  const prune = setInterval(() => void store.pruneJtis(Date.now()).catch(() => undefined), 60_000);
  prune.unref();
  const stopCheckpoints = logAuditCheckpoints(store, logger);
  // Loaded only when scheduled, so a broker without a reconciler does not load Octokit.
  const reconciler = config.reconciler?.schedule !== undefined ? (await import('./reconcile/schedule-reconciler.ts')).startScheduledReconciler(config, store, logger) : undefined;

  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down: draining');
    clearInterval(prune);
    clearInterval(beat);
    const ended = await shutDown(app, lifecycle, proxy?.streams, SHUTDOWN_GRACE_MS);
    if (ended > 0) logger.warn({ ended }, 'ended streams still open after the grace period');
    await proxy?.close();
    await reconciler?.stop();
    await stopCheckpoints();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ host: listen.host, port: listen.port });
}
