/**
 * Fault injection for the fake GitHub. A fault applies to the next `times` requests it matches
 * (default 1), after authentication: it simulates GitHub failing a request it would otherwise
 * serve, so a refused request must not use it up.
 *
 *   secondary-rate-limit  403 (or 429) with `retry-after` (default 1 s) and GitHub's
 *                         "You have exceeded a secondary rate limit…" message
 *   primary-rate-limit    403 (or 429) with `x-ratelimit-remaining: 0` and a reset `resetSeconds`
 *                         from now (default 1), message "API rate limit exceeded…"
 *   status                500, 502 or 503 with GitHub's generic error body
 *   reset                 the connection is destroyed before any byte is sent
 *   empty-members         200 with `[]` and no `Link`, as GitHub occasionally answers a list
 *                         during an incident: a reconciler must not read it as "everyone left"
 */
import { GithubError } from './reply.ts';

export type GithubFault = {
  /** Upper-case method; any when absent. */
  method?: string;
  /** Exact path (no query) or a pattern; any when absent. */
  path?: string | RegExp;
  /** How many matching requests this fault answers; default 1. */
  times?: number;
} & (
  | { kind: 'secondary-rate-limit'; status?: 403 | 429; retryAfter?: number }
  | { kind: 'primary-rate-limit'; status?: 403 | 429; resetSeconds?: number }
  | { kind: 'status'; status: 500 | 502 | 503 }
  | { kind: 'reset' }
  | { kind: 'empty-members' }
);

const SECONDARY_DOCS = 'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';
const PRIMARY_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits';
const STATUS_MESSAGES: Record<number, string> = { 500: 'Server Error', 502: 'Server Error', 503: 'Service Unavailable' };

/** `FaultQueue` holds injected faults in order; the first match answers. */
export class FaultQueue {
  private faults: { fault: GithubFault; left: number }[] = [];

  push(fault: GithubFault): void {
    this.faults.push({ fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  take(method: string, path: string): GithubFault | undefined {
    const entry = this.faults.find(({ fault }) => matches(fault, method, path));
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.faults.splice(this.faults.indexOf(entry), 1);
    return entry.fault;
  }
}

function matches(fault: GithubFault, method: string, path: string): boolean {
  if (fault.method !== undefined && fault.method.toUpperCase() !== method) return false;
  if (fault.path === undefined) return true;
  return typeof fault.path === 'string' ? fault.path === path : fault.path.test(path);
}

/**
 * `faultError` returns the error a rate-limit or status fault answers with; `undefined` for the
 * kinds the server acts out itself (reset, empty list).
 */
export function faultError(fault: GithubFault, requestId: string): GithubError | undefined {
  switch (fault.kind) {
    case 'secondary-rate-limit':
      return new GithubError(
        fault.status ?? 403,
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
          `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
        { 'retry-after': String(fault.retryAfter ?? 1) },
        {},
        SECONDARY_DOCS,
      );
    case 'primary-rate-limit': {
      const reset = Math.ceil(Date.now() / 1000) + (fault.resetSeconds ?? 1);
      const headers = { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) };
      return new GithubError(fault.status ?? 403, 'API rate limit exceeded for installation ID 1.', headers, {}, PRIMARY_DOCS);
    }
    case 'status':
      return new GithubError(fault.status, STATUS_MESSAGES[fault.status] ?? 'Server Error');
    default:
      return undefined;
  }
}
