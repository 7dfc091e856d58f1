import { hostname } from 'node:os';
import type { Config } from '../config/load-config.ts';
import { createCredentialProvider, type CredentialProvider } from '../credentials/index.ts';
import { generateId } from '../exchange/token-format.ts';
import type { IssuerSpec } from '../exchange/issuers.ts';
import type { CompiledPolicy } from '../policy/compile-policies.ts';
import type { Store } from '../store/store.ts';
import type { ReconcilerConfig } from './reconcile-config.ts';
import type { GithubTiming } from './sources/github-client.ts';

/** Secrets a run reads afresh from their stores (env:, file:, aws-sm://); absent when not configured. */
export interface ReconcilerSecrets {
  github?: CredentialProvider;
  adminKey?: CredentialProvider;
  scimToken?: CredentialProvider;
  /** The proxy's upstream key: only read to recognise it among the organization's keys. */
  upstreamKey?: CredentialProvider;
}

/** Everything a run needs, passed in. */
export interface ReconcileDeps {
  store: Store;
  policies: readonly CompiledPolicy[];
  issuers: readonly IssuerSpec[];
  settings: ReconcilerConfig;
  now: () => number;
  /** Names this process in the lease and the report: host:pid:id. */
  holder: string;
  secrets: ReconcilerSecrets;
  githubTiming?: GithubTiming;
  leaseTtlMs?: number;
}

/**
 * `createReconcileDeps` wires a run from the loaded config: one credential provider per secret
 * reference (nothing is fetched until a run needs it). Call `close` when done with them.
 */
export function createReconcileDeps(
  config: Config,
  store: Store,
  opts: { now?: () => number; env?: NodeJS.ProcessEnv; githubTiming?: GithubTiming; leaseTtlMs?: number } = {},
): ReconcileDeps & { close(): void } {
  const settings = config.reconciler;
  if (!settings) throw new Error(`${config.source}: no reconciler section; add reconciler: to the config`);
  const provider = (ref: string | undefined) => (ref === undefined ? undefined : createCredentialProvider(ref, { baseDir: config.baseDir, ...(opts.env && { env: opts.env }) }));
  const secrets: ReconcilerSecrets = {};
  const github = provider(settings.github?.tokenRef);
  const adminKey = provider(settings.anthropicKeys?.adminKeyRef);
  const scimToken = provider(settings.idp?.source.kind === 'scim' ? settings.idp.source.tokenRef : undefined);
  const upstreamKey = settings.anthropicKeys ? provider(config.upstream?.credential) : undefined;
  if (github) secrets.github = github;
  if (adminKey) secrets.adminKey = adminKey;
  if (scimToken) secrets.scimToken = scimToken;
  if (upstreamKey) secrets.upstreamKey = upstreamKey;
  return {
    store,
    policies: config.policies,
    issuers: config.issuers,
    settings,
    now: opts.now ?? Date.now,
    holder: `${hostname()}:${process.pid}:${generateId('rec')}`,
    secrets,
    ...(opts.githubTiming && { githubTiming: opts.githubTiming }),
    ...(opts.leaseTtlMs !== undefined && { leaseTtlMs: opts.leaseTtlMs }),
    close: () => Object.values(secrets).forEach((p: CredentialProvider) => p.close()),
  };
}

/** `readSecret` fetches a secret, turning a failure into a message that names the reference's kind, never its value. */
export async function readSecret(provider: CredentialProvider, what: string): Promise<{ value: string } | { error: string }> {
  try {
    return { value: await provider.current() };
  } catch (err) {
    return { error: `${what} could not be read: ${(err as Error).message}` };
  }
}
