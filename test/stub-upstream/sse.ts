import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StubContext } from './context.ts';
import type { StreamFault } from './faults.ts';
import { rateLimitHeaders } from './reply.ts';

/** One server-sent event; `data` is JSON-encoded unless it is already a string. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** `formatEvent` renders the wire form: `event:` line, `data:` line, blank line (§3.5). */
export function formatEvent(event: SseEvent): string {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  return `event: ${event.event}\ndata: ${data}\n\n`;
}

/** Where in the stream a parked fault bites; `undefined` when it never does. */
function faultIndex(fault: StreamFault | undefined, total: number): number | undefined {
  if (fault === undefined) return undefined;
  if (fault.afterEvents !== undefined) return fault.afterEvents;
  return fault.kind === 'truncate' ? total - 1 : 1;
}

/**
 * `streamEvents` writes a 200 `text/event-stream` reply, one `write` per event with
 * `eventDelayMs` between them, so a test can tell a relaying proxy from a buffering one.
 * Headers are flushed first, as the real API does, so the client sees the status at once.
 */
export async function streamEvents(ctx: StubContext, events: readonly SseEvent[]): Promise<void> {
  const { res } = ctx;
  res.writeHead(200, {
    ...rateLimitHeaders(),
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
  });
  res.flushHeaders();
  const delayMs = ctx.state.settings.eventDelayMs;
  const fault = ctx.streamFault;
  const cut = faultIndex(fault, events.length);
  for (const [index, event] of events.entries()) {
    if (index > 0 && delayMs > 0) await sleep(delayMs);
    if (res.destroyed) return; // the client went away; stop like the API would
    if (index === cut && fault) return actOutFault(ctx, fault);
    if (!res.write(formatEvent(event))) await drainedOrClosed(res);
  }
  if (cut !== undefined && cut >= events.length && fault) return actOutFault(ctx, fault);
  res.end();
}

/** Waits for the client to take more, or to go away; removes both listeners either way (a long stream waits thousands of times). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function actOutFault(ctx: StubContext, fault: StreamFault): void {
  if (fault.kind === 'stream-reset') {
    ctx.req.socket.resetAndDestroy();
    return;
  }
  if (fault.kind === 'stream-error') {
    const error = { type: fault.errorType ?? 'overloaded_error', message: fault.message ?? 'Overloaded' };
    ctx.res.write(formatEvent({ event: 'error', data: { type: 'error', error } }));
  }
  // A truncated stream just ends cleanly without `message_stop`: the chunked encoding terminates,
  // so only a client that checks for `message_stop` notices.
  ctx.res.end();
}
