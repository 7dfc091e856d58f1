/** How `withRetries` waits; tests pass a recording sleep. */
export interface RetryOptions {
  attempts: number;
  /** Delay before retry n (1-based) in ms; default 1 s, 2 s, 4 s … */
  delayMs?: (retry: number) => number;
  /** Whether an error is worth another attempt; default every error. */
  retryable?: (err: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (err: unknown, retry: number, delayMs: number) => void;
}

/** `withRetries` runs `fn` until it succeeds or `attempts` are spent, and rethrows the last error. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const delay = opts.delayMs ?? ((retry: number) => 1000 * 2 ** (retry - 1));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || (opts.retryable && !opts.retryable(err))) throw err;
      const ms = delay(attempt);
      opts.onRetry?.(err, attempt, ms);
      await sleep(ms);
    }
  }
}
