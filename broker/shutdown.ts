import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { OpenStreams } from './proxy/open-streams.ts';

/** Shared between the app and whoever stops it: readiness turns false the moment draining starts. */
export interface Lifecycle {
  draining: boolean;
}

/**
 * `shutDown` stops the broker gracefully: readiness goes false, no new connections are accepted
 * (requests on open connections get fastify's 503), requests in flight may finish within
 * `graceMs`, and SSE streams still open after it are ended with a terminal `event: error` so
 * clients see a clean failure rather than a cut connection. Returns how many streams were ended.
 */
export async function shutDown(app: FastifyInstance, lifecycle: Lifecycle, streams: OpenStreams | undefined, graceMs: number): Promise<number> {
  lifecycle.draining = true;
  const closed = app.close();
  // A connection whose response finishes during the drain turns keep-alive idle and would hold
  // the close open for fastify's 72 s keep-alive timeout; close such connections as they go idle.
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    const finished = await Promise.race([closed.then(() => true), sleep(graceMs, false, { ref: false })]);
    if (finished) return 0;
    const ended = streams?.terminateAll() ?? 0;
    await closed;
    return ended;
  } finally {
    clearInterval(sweep);
  }
}
