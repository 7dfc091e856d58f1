import { GithubError } from './reply.ts';

const WINDOW_SECONDS = 3600;

/**
 * `RateLimit` is GitHub's primary limit for the `core` resource: `limit` requests per hour.
 * It is enforced, not just reported, so a client that ignores `x-ratelimit-remaining` meets the
 * same 403 it would on GitHub; the benchmark raises `limit` rather than faking the headers.
 */
export class RateLimit {
  used = 0;
  private resetAt = nowSeconds() + WINDOW_SECONDS;

  constructor(public limit: number) {}

  /** `consume` counts one request and returns its headers, or throws the primary-limit 403. */
  consume(): Record<string, string> {
    this.roll();
    if (this.used >= this.limit) {
      throw new GithubError(403, 'API rate limit exceeded for installation ID 1.', this.headers(), {}, 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits');
    }
    this.used += 1;
    return this.headers();
  }

  /** `headers` are the `x-ratelimit-*` values without counting a request (`GET /rate_limit` is free). */
  headers(): Record<string, string> {
    this.roll();
    return {
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(Math.max(0, this.limit - this.used)),
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-used': String(this.used),
      'x-ratelimit-resource': 'core',
    };
  }

  /** The `core` entry of `GET /rate_limit`. */
  snapshot() {
    this.roll();
    return { limit: this.limit, used: this.used, remaining: Math.max(0, this.limit - this.used), reset: this.resetAt };
  }

  reset(): void {
    this.used = 0;
    this.resetAt = nowSeconds() + WINDOW_SECONDS;
  }

  private roll(): void {
    if (nowSeconds() < this.resetAt) return;
    this.reset();
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
