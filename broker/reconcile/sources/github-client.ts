import { randomUUID } from 'node:crypto';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';

const ReconcilerOctokit = Octokit.plugin(throttling, retry);
export type GithubClient = InstanceType<typeof ReconcilerOctokit>;

/** Waits and limits for GitHub calls. Tests shrink the time base; production keeps GitHub's seconds. */
export interface GithubTiming {
  /** Milliseconds per second of Retry-After (and of the retry plugin's back-off). */
  retryAfterBaseMs: number;
  /** Longest rate-limit wait a run sits through; a longer one fails the source instead. */
  maxWaitSec: number;
  requestTimeoutMs: number;
}

export const GITHUB_TIMING: GithubTiming = { retryAfterBaseMs: 1000, maxWaitSec: 120, requestTimeoutMs: 30_000 };

export interface CountingClient {
  octokit: GithubClient;
  /** HTTP requests actually sent, retries included. */
  calls(): number;
}

/**
 * `createGithubClient` returns Octokit with GitHub's rate-limit guidance built in: the throttling
 * plugin waits out Retry-After / x-ratelimit-reset on 403 and 429 (primary twice, secondary three
 * times, never longer than `maxWaitSec`), and the retry plugin retries 5xx with back-off. Callers
 * make their requests one after another, as GitHub asks of integrations.
 */
export function createGithubClient(opts: { baseUrl: string; token: string; timing?: GithubTiming }): CountingClient {
  const timing = opts.timing ?? GITHUB_TIMING;
  let calls = 0;
  const fetchWithTimeout: typeof fetch = (input, init) => {
    calls++;
    const timeout = AbortSignal.timeout(timing.requestTimeoutMs);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };
  const octokit = new ReconcilerOctokit({
    auth: opts.token,
    baseUrl: opts.baseUrl,
    userAgent: 'skillgate-reconciler',
    request: { fetch: fetchWithTimeout },
    // Octokit logs every retry at warn; the run reports failures itself.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    throttle: {
      // A fresh id per client keeps its limiter apart from other clients in the process.
      id: randomUUID(),
      retryAfterBaseValue: timing.retryAfterBaseMs,
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < 2 && retryAfter <= timing.maxWaitSec,
      onSecondaryRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < 3 && retryAfter <= timing.maxWaitSec,
    },
    retry: { retryAfterBaseValue: timing.retryAfterBaseMs },
  });
  return { octokit, calls: () => calls };
}

/** `httpStatus` reads the status of an Octokit RequestError (undefined for a network failure). */
export function httpStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** `describeGithubError` says what went wrong without quoting a response body or the token. */
export function describeGithubError(err: unknown): string {
  const status = httpStatus(err);
  if (status === undefined) return `no answer (${err instanceof Error ? err.name : 'error'}${err instanceof Error && err.name !== 'HttpError' ? `: ${err.message}` : ''})`;
  const hint = status === 401 ? ': the token is invalid or expired' : status === 403 ? ': forbidden or rate limited beyond the wait the reconciler allows' : '';
  return `HTTP ${status}${hint}`;
}
