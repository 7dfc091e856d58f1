import { setTimeout as sleep } from 'node:timers/promises';
import type { StubContext } from './context.ts';
import { StubError, errorTypeForStatus } from './errors.ts';
import type { RecordedRequest } from './recording.ts';

/**
 * Fault injection (§8). A fault comes either from the programmatic queue (`injectFault`, applies
 * once, to the next request it matches) or from a request header, so an end-to-end test through
 * the proxy can trigger one without touching the stub:
 *
 *   x-stub-fault: 529                     status fault (429 / 500 / 529 / any 4xx–5xx)
 *   x-stub-fault: 429; retry-after=2      with a `retry-after` (429 defaults to 0)
 *   x-stub-fault: 503; should-retry=false with `x-should-retry`
 *   x-stub-fault: reset                   connection reset before any byte
 *   x-stub-fault: slow-first-byte=1500    wait 1500 ms, then answer normally
 *   x-stub-fault: stream-error[=N]        `event: error` (overloaded) after N SSE events (default 1)
 *   x-stub-fault: truncate[=N]            end the stream after N events (default: all but message_stop)
 *   x-stub-fault: stream-reset[=N]        reset the connection after N events (default 1)
 *
 * Stream faults only affect SSE replies; JSON replies ignore them.
 *
 * Queue only (a URL does not fit the header syntax): `{ kind: 'redirect', status: 307, location }`
 * answers a 3xx to `location` with an empty body, as a hijacked or misconfigured upstream would
 * (security.md C-29: the proxy must not follow it, least of all with the real key).
 */
export interface FaultMatch {
  /** Upper-case method; any when absent. */
  method?: string;
  /** Exact path (query ignored) or a pattern; any when absent. */
  path?: string | RegExp;
}

export type StreamFault =
  | { kind: 'stream-error'; afterEvents?: number; errorType?: string; message?: string }
  | { kind: 'truncate'; afterEvents?: number }
  | { kind: 'stream-reset'; afterEvents?: number };

export type Fault = FaultMatch &
  (
    | { kind: 'status'; status: number; shouldRetry?: boolean; retryAfterSeconds?: number; message?: string }
    | { kind: 'reset' }
    | { kind: 'slow-first-byte'; delayMs: number }
    | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string }
    | StreamFault
  );

export const FAULT_HEADER = 'x-stub-fault';

/** `FaultQueue` holds injected faults in order; each one is used by exactly one request. */
export class FaultQueue {
  private faults: Fault[] = [];

  push(fault: Fault): void {
    this.faults.push(fault);
  }

  clear(): void {
    this.faults = [];
  }

  /** `take` removes and returns the first queued fault that matches the request. */
  take(record: RecordedRequest): Fault | undefined {
    const index = this.faults.findIndex((fault) => faultMatches(fault, record));
    if (index === -1) return undefined;
    return this.faults.splice(index, 1)[0];
  }
}

function faultMatches(fault: FaultMatch, record: RecordedRequest): boolean {
  if (fault.method !== undefined && fault.method.toUpperCase() !== record.method) return false;
  if (fault.path === undefined) return true;
  return typeof fault.path === 'string' ? fault.path === record.path : fault.path.test(record.path);
}

/** `parseFaultHeader` reads the `x-stub-fault` syntax above; unknown kinds are a 400 so typos show. */
export function parseFaultHeader(value: string): Fault {
  const [head = '', ...rest] = value.split(';').map((piece) => piece.trim());
  const params = new Map(rest.map((piece) => piece.split('=').map((s) => s.trim()) as [string, string]));
  const [kind = '', arg] = head.split('=').map((s) => s.trim());
  const count = arg === undefined ? undefined : Number(arg);
  const afterEvents = count === undefined ? {} : { afterEvents: count };
  if (/^\d{3}$/.test(kind)) {
    const shouldRetry = params.get('should-retry');
    const retryAfter = params.get('retry-after');
    return {
      kind: 'status',
      status: Number(kind),
      ...(shouldRetry === undefined ? {} : { shouldRetry: shouldRetry === 'true' }),
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: Number(retryAfter) }),
    };
  }
  if (kind === 'reset') return { kind };
  if (kind === 'slow-first-byte') return { kind, delayMs: count ?? 1000 };
  if (kind === 'stream-error' || kind === 'truncate' || kind === 'stream-reset') return { kind, ...afterEvents };
  throw new StubError(400, 'invalid_request_error', `${FAULT_HEADER}: unknown fault ${JSON.stringify(value)}`);
}

const STATUS_MESSAGES: Record<number, string> = {
  429: 'Number of request tokens has exceeded your per-minute rate limit (stub fault)',
  500: 'Internal server error',
  529: 'Overloaded',
};

/**
 * `applyFault` acts out the part of a fault that happens before the reply: it throws a status
 * error, resets the socket (returns `'done'`), or delays the first byte. Stream faults are parked
 * on the context for `sse.ts`.
 */
export async function applyFault(ctx: StubContext, fault: Fault): Promise<'done' | 'continue'> {
  switch (fault.kind) {
    case 'status': {
      const headers: Record<string, string> = {};
      const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 0 : undefined);
      if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
      if (fault.shouldRetry !== undefined) headers['x-should-retry'] = String(fault.shouldRetry);
      const message = fault.message ?? STATUS_MESSAGES[fault.status] ?? `stub fault ${fault.status}`;
      throw new StubError(fault.status, errorTypeForStatus(fault.status), message, headers);
    }
    case 'reset':
      ctx.req.socket.resetAndDestroy();
      return 'done';
    case 'slow-first-byte':
      await sleep(fault.delayMs);
      return 'continue';
    case 'redirect':
      ctx.res.writeHead(fault.status, { location: fault.location, 'content-length': '0' }).end();
      return 'done';
    default:
      ctx.streamFault = fault;
      return 'continue';
  }
}
