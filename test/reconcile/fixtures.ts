// Builders shared by the reconciler tests: a config written as an operator writes it, tokens
// committed to a real SQLite store the way the exchange commits them, and proxied calls recorded
// the way the proxy records them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../broker/config/load-config.ts';
import { generateId, hashToken } from '../../broker/exchange/token-format.ts';
import { createReconcileDeps, type ReconcileDeps } from '../../broker/reconcile/reconcile-deps.ts';
import type { GithubTiming } from '../../broker/reconcile/sources/github-client.ts';
import { openSqliteStore } from '../../broker/store/sqlite-store.ts';
import type { Store, TokenIdentity, TokenRecord } from '../../broker/store/store.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** GitHub's waits in milliseconds instead of seconds, so rate-limit and 5xx retries stay quick. */
export const FAST_GITHUB: GithubTiming = { retryAfterBaseMs: 5, maxWaitSec: 120, requestTimeoutMs: 5000 };

/** The org, repository and people the default fixtures are about. */
export const ORG = { login: 'octo-org', id: 65 };
export const REPO = { id: 74, name: 'octo-repo' };
export const OCTOCAT = { login: 'octocat', id: 583231 };

export const POLICIES = [
  { name: 'ci', issuer: 'github', match: { repository_owner_id: '65' }, grant: { scopes: ['messages:create', 'models:read', 'skills:read'], tools: { code_execution: 'allow', bash: 'allow' }, ttl: '1d' } },
  { name: 'people', issuer: 'okta', match: { sub: ['okta|alice@example.com', 'okta|bob@example.com', 'okta|carol@example.com'] }, grant: { scopes: ['messages:create'], ttl: '1d' } },
];

/** `testConfig` parses a config with the given `reconciler:` section (and policies / extra keys). */
export function testConfig(reconciler: Record<string, unknown>, opts: { policies?: unknown[]; extra?: Record<string, unknown>; dir?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const dir = opts.dir ?? tmpdir();
  const text = stringify({
    audience: 'https://skillgate.test',
    store: 'sqlite::memory:',
    issuers: [{ name: 'okta', kind: 'oidc', issuer: 'https://idp.example.com' }],
    policies: opts.policies ?? POLICIES,
    reconciler,
    ...opts.extra,
  });
  return parseConfig(text, { source: 'test.yaml', baseDir: dir, env: opts.env ?? process.env });
}

export interface TempStore {
  store: Store;
  path: string;
  /** Another handle on the same file: a second broker process sharing the store. */
  reopen(): Store;
  close(): Promise<void>;
}

/** `tempStore` opens an SQLite store in a fresh folder. */
export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-reconcile-'));
  const path = join(dir, 'skillgate.db');
  const store = openSqliteStore(path);
  const others: Store[] = [];
  return {
    store,
    path,
    reopen: () => {
      const other = openSqliteStore(path);
      others.push(other);
      return other;
    },
    close: async () => {
      for (const s of [store, ...others]) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A workflow token of octocat in octo-org/octo-repo unless overridden. */
export function workflowIdentity(over: Partial<TokenIdentity> = {}): TokenIdentity {
  return {
    iss: 'https://token.actions.githubusercontent.com',
    sub: `repo:${ORG.login}/${REPO.name}:ref:refs/heads/main`,
    repository: `${ORG.login}/${REPO.name}`,
    repository_id: String(REPO.id),
    repository_owner: ORG.login,
    repository_owner_id: String(ORG.id),
    repository_visibility: 'private',
    actor: OCTOCAT.login,
    actor_id: String(OCTOCAT.id),
    run_id: '1',
    ref: 'refs/heads/main',
    event_name: 'push',
    ...over,
  };
}

/** A person's IdP token. */
export function personIdentity(email: string): TokenIdentity {
  // The people policy binds these subjects; an IdP token keeps sub and email.
  return { iss: 'https://idp.example.com', sub: `okta|${email}`, email };
}

/**
 * `seedToken` commits a token through `commitExchange`, as the exchange does. Issued an hour
 * before `now` and valid a day unless overridden.
 */
export async function seedToken(store: Store, now: number, over: Partial<TokenRecord> = {}): Promise<TokenRecord> {
  const identity = over.identity ?? workflowIdentity();
  const token: TokenRecord = {
    id: generateId('tok'),
    tokenHash: hashToken(randomBytes(16).toString('hex')),
    policy: 'ci',
    issuer: identity.iss === 'https://idp.example.com' ? 'okta' : 'github',
    scopes: ['messages:create'],
    identity,
    issuedAt: now - HOUR,
    expiresAt: now + DAY,
    ...over,
  };
  await store.commitExchange({ iss: identity.iss, jti: generateId('jti'), expiresAt: token.expiresAt }, token, { type: 'token.exchange', at: token.issuedAt, session: token.id, outcome: 'granted', data: { policy: token.policy } });
  return token;
}

/** `recordUse` writes a `proxy.request` record for a token, as the proxy's record stage does. */
export async function recordUse(store: Store, token: TokenRecord, at: number, opts: { operation?: string; body?: unknown; truncated?: boolean } = {}): Promise<void> {
  await store.appendAudit({
    type: 'proxy.request',
    at,
    requestId: generateId('req'),
    session: token.id,
    operation: opts.operation ?? 'messages:create',
    data: { route: 'POST /v1/messages', policy: token.policy, request: { body: opts.body ?? { model: 'claude-sonnet-5', max_tokens: 16, messages: [] }, truncated: opts.truncated ?? false } },
  });
}

/** `testDeps` wires a run for tests: fixed clock, quick GitHub retries. */
export function testDeps(config: Config, store: Store, now: number, env: NodeJS.ProcessEnv = process.env): ReconcileDeps & { close(): void } {
  return createReconcileDeps(config, store, { now: () => now, env, githubTiming: FAST_GITHUB });
}
