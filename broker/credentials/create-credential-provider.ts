import { createSecretsManagerSource } from './aws-secrets-manager.ts';
import { CachedProvider } from './cached-provider.ts';
import { parseCredentialRef } from './credential-ref.ts';
import type { CredentialProvider, CredentialProviderOptions, SecretSource } from './credential-provider.ts';
import { createStaticSource } from './static-source.ts';

const DEFAULT_REFRESH_INTERVAL_MS = 5 * 60_000;
const DEFAULT_STALE_WINDOW_MS = 15 * 60_000;

/**
 * `createCredentialProvider` returns the provider for a reference (`env:`, `file:`, `aws-sm://`).
 * It checks the reference and options but fetches nothing: await `current()` at boot to fail fast.
 */
export function createCredentialProvider(ref: string, opts: CredentialProviderOptions = {}): CredentialProvider {
  const refreshIntervalMs = opts.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  const staleWindowMs = opts.staleWindowMs ?? DEFAULT_STALE_WINDOW_MS;
  if (!(refreshIntervalMs > 0) || !(staleWindowMs >= refreshIntervalMs)) {
    throw new RangeError(
      'credential refreshIntervalMs must be positive and staleWindowMs at least as long (a value is refreshed before it may go stale)',
    );
  }
  const parsed = parseCredentialRef(ref);
  const env = opts.env ?? process.env;
  const source: SecretSource =
    parsed.kind === 'aws-sm'
      ? createSecretsManagerSource(parsed, env)
      : createStaticSource(parsed, opts.baseDir ?? process.cwd(), env);
  return new CachedProvider(source, { refreshIntervalMs, staleWindowMs, now: opts.now ?? Date.now });
}
