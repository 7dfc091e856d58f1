/**
 * The proxy's view of the real upstream key: a provider hands out the current value, refreshes it
 * when the upstream rejects it, and fails closed when it cannot vouch for any value.
 * Nothing here ever puts the value into a message, a log line or an error.
 */
export interface CredentialProvider {
  /** The current secret; served from cache; throws CredentialUnavailableError when it cannot be had (fail closed). */
  current(): Promise<string>;
  /**
   * Called after the upstream answered 401 with `rejected`: refresh once (single-flight: concurrent
   * callers share one fetch) and return the new value; if the fetched value equals the rejected
   * one, return it anyway (the caller will give up).
   */
  refreshAfterRejection(rejected: string): Promise<string>;
  /** true once a value has been fetched and is within its stale window. For /readyz; a due refresh starts in the background. */
  isUsable(): boolean;
  close(): void;
}

export interface CredentialProviderOptions {
  /** How old a value may get before a background refresh starts. Default 5 minutes. */
  refreshIntervalMs?: number;
  /** How long after the last successful fetch a value may be served while refreshes fail. Default 15 minutes. */
  staleWindowMs?: number;
  /** Folder that relative `file:` paths resolve against (the config file's folder). Default: the working directory. */
  baseDir?: string;
  /** Where `env:` references (and the AWS region fallback) are looked up. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Clock in epoch milliseconds; injected by tests to walk through the stale window. */
  now?: () => number;
}

/** Thrown when no trustworthy value can be served; the proxy answers 503. The message says what to fix. */
export class CredentialUnavailableError extends Error {
  override readonly name = 'CredentialUnavailableError';
  readonly code = 'credential_unavailable';
}

/** Where a secret lives. `fetch` reads it afresh on every call; the cache sits in front. */
export interface SecretSource {
  /** Names the source for messages (`env:NAME`, `file:/path`, `aws-sm secret prod/x in us-east-1`). */
  readonly description: string;
  fetch(): Promise<string>;
  close(): void;
}

/**
 * A source's account of why a fetch failed. Only messages of this class reach operators, so a
 * source must build them itself and never copy text from a response that held the secret.
 */
export class SecretSourceError extends Error {
  override readonly name = 'SecretSourceError';
}
