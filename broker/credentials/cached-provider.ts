import {
  CredentialUnavailableError,
  SecretSourceError,
  type CredentialProvider,
  type SecretSource,
} from './credential-provider.ts';

export interface CacheTimings {
  refreshIntervalMs: number;
  staleWindowMs: number;
  now: () => number;
}

// After a failed fetch, wait this long before the next one that a request or probe would start:
// with Secrets Manager down or denying, every proxied request would otherwise cost one more call.
const FAILURE_BACKOFF_MS = 5_000;

/**
 * `CachedProvider` puts a cache in front of a secret source. Fresh values are served as they are;
 * past the refresh interval the cached value is served while one background fetch runs; past the
 * stale window (counted from the last successful fetch) a request must wait for a fetch and gets
 * CredentialUnavailableError if it fails. At most one fetch runs at a time.
 *
 * There is no timer: requests and /readyz probes drive refreshes, so nothing runs after close().
 */
export class CachedProvider implements CredentialProvider {
  // Private fields keep the value out of util.inspect, JSON.stringify and error reporters.
  #value: string | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #problem = 'it has not been fetched yet';
  #inflight: Promise<string | undefined> | undefined;
  #closed = false;
  readonly #source: SecretSource;
  readonly #timings: CacheTimings;

  constructor(source: SecretSource, timings: CacheTimings) {
    this.#source = source;
    this.#timings = timings;
  }

  async current(): Promise<string> {
    if (this.#servable() && this.#value !== undefined) {
      if (this.#refreshDue()) this.#refreshInBackground();
      return this.#value;
    }
    if (this.#inflight === undefined && this.#backingOff()) throw this.#unavailable();
    return this.#refreshOrExplain();
  }

  async refreshAfterRejection(rejected: string): Promise<string> {
    // The caller used a value that a concurrent refresh has already replaced: no second fetch.
    if (this.#inflight === undefined && this.#servable() && this.#value !== undefined && this.#value !== rejected) {
      return this.#value;
    }
    // A 401 is fresh evidence of rotation, so it skips the failure backoff.
    return this.#refreshOrExplain();
  }

  isUsable(): boolean {
    // Readiness probes keep an idle proxy's value fresh; without this it would age out unnoticed.
    if (this.#refreshDue()) this.#refreshInBackground();
    return this.#servable();
  }

  close(): void {
    this.#closed = true;
    this.#source.close();
  }

  #servable(): boolean {
    return !this.#closed && this.#value !== undefined && this.#age() < this.#timings.staleWindowMs;
  }

  #refreshDue(): boolean {
    return !this.#closed && this.#inflight === undefined && this.#age() >= this.#timings.refreshIntervalMs;
  }

  #backingOff(): boolean {
    return this.#timings.now() - this.#failedAt < FAILURE_BACKOFF_MS;
  }

  #age(): number {
    return this.#timings.now() - this.#fetchedAt;
  }

  #refreshInBackground(): void {
    // A failure is remembered in #problem and surfaces once the stale window is spent.
    if (!this.#backingOff()) void this.#refresh();
  }

  // A caller may join a fetch that failed before the value went stale: explain the failure as
  // things stand when the caller hears of it.
  async #refreshOrExplain(): Promise<string> {
    const value = this.#closed ? undefined : await this.#refresh();
    if (value === undefined) throw this.#unavailable();
    return value;
  }

  /** Single flight: every caller during a fetch shares its outcome (undefined when it failed). */
  #refresh(): Promise<string | undefined> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<string | undefined> {
    try {
      const value = await this.#source.fetch();
      this.#value = value;
      this.#fetchedAt = this.#timings.now();
      return value;
    } catch (err) {
      this.#failedAt = this.#timings.now();
      // Only a source's own messages are known to be free of the secret; anything else keeps its name.
      this.#problem = err instanceof SecretSourceError ? err.message : `reading it failed unexpectedly (${nameOf(err)})`;
      return undefined;
    }
  }

  #unavailable(): CredentialUnavailableError {
    if (this.#closed) return new CredentialUnavailableError(`${this.#source.description}: the credential provider is closed`);
    const stale =
      this.#value !== undefined && !this.#servable()
        ? ` and the value fetched ${Math.round(this.#age() / 1000)} s ago is past its stale window`
        : '';
    return new CredentialUnavailableError(
      `upstream credential from ${this.#source.description} is unavailable${stale}: ${this.#problem}`,
    );
  }
}

function nameOf(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
