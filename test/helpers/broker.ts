// Starts a real broker on 127.0.0.1:0 for tests: config from YAML text (as an operator writes
// it), an SQLite store in a temp folder, and a pino logger whose lines are kept for secret greps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { buildApp } from '../../broker/app.ts';
import { parseConfig, type Config } from '../../broker/config/load-config.ts';
import { createIssuerKeys, DEFAULT_FETCH_LIMITS, type IssuerFetchLimits, type IssuerKeys } from '../../broker/exchange/issuer-keys.ts';
import { createProxyDeps } from '../../broker/proxy/proxy-routes.ts';
import type { ProxyDeps } from '../../broker/proxy/pipeline.ts';
import type { Lifecycle } from '../../broker/shutdown.ts';
import { openSqliteStore } from '../../broker/store/sqlite-store.ts';
import type { Store } from '../../broker/store/store.ts';

export const TEST_AUDIENCE = 'https://skillgate.test';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** A policy for the issuer's default claims (octo-org@65 / octo-repo@74, main, push). */
export const DEFAULT_POLICIES = [
  {
    name: 'ci',
    issuer: 'actions',
    match: { repository_owner_id: '65', repository_id: '74', ref: 'refs/heads/main' },
    grant: { scopes: ['messages:create', 'models:read', 'skills:read'], models: ['claude-sonnet-4-*'], max_tokens: 4096, ttl: '15m' },
  },
];

export interface BrokerOptions {
  issuerUrl: string;
  policies?: unknown[];
  /** Extra top-level config keys (operators, issuers are merged: `actions` is always there). */
  config?: Record<string, unknown>;
  extraIssuers?: Record<string, unknown>[];
  now?: () => number;
  /** Reuse a store folder (restart tests); default a fresh temp folder. */
  dir?: string;
  fetchLimits?: Partial<IssuerFetchLimits>;
  /** Log level of the captured logger; default debug (benchmarks pass warn). */
  logLevel?: string;
}

export interface TestBroker {
  url: string;
  app: FastifyInstance;
  store: Store;
  lifecycle: Lifecycle;
  proxy: ProxyDeps | undefined;
  config: Config;
  keys: IssuerKeys;
  dir: string;
  /** Every log line the broker wrote (JSON text). */
  logs: string[];
  exchange(subjectToken: string, extra?: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Stops the server and closes the store; removes the temp folder unless `keepDir`. */
  close(opts?: { keepDir?: boolean }): Promise<void>;
}

/** `testConfig` renders the YAML an operator would write for a local GitHub-shaped issuer. */
export function testConfigYaml(opts: BrokerOptions, dir: string): string {
  return stringify({
    audience: TEST_AUDIENCE,
    store: `sqlite:${join(dir, 'skillgate.db')}`,
    issuers: [{ name: 'actions', issuer: opts.issuerUrl }, ...(opts.extraIssuers ?? [])],
    policies: opts.policies ?? DEFAULT_POLICIES,
    ...opts.config,
  });
}

export async function startBroker(opts: BrokerOptions): Promise<TestBroker> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'skillgate-test-'));
  const config = parseConfig(testConfigYaml(opts, dir), { source: 'test.yaml', baseDir: dir, env: process.env });
  const logs: string[] = [];
  const logger = pino({ level: opts.logLevel ?? 'debug' }, new Writable({ write: (chunk: Buffer, _enc, cb) => (logs.push(chunk.toString()), cb()) }));
  const store = openSqliteStore(config.storePath);
  const keys = createIssuerKeys({ ...DEFAULT_FETCH_LIMITS, ...opts.fetchLimits });
  const now = opts.now ?? Date.now;
  const proxy = createProxyDeps(config, store, now);
  const lifecycle = { draining: false };
  const app = await buildApp({ config, store, keys, now, logger, lifecycle, ...(proxy && { proxy }) });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    store,
    lifecycle,
    proxy,
    config,
    keys,
    dir,
    logs,
    exchange: async (subjectToken, extra = {}) => {
      const res = await fetch(`${url}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ID_TOKEN_TYPE, ...extra }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    close: async ({ keepDir = false } = {}) => {
      if (!lifecycle.draining) await app.close();
      await proxy?.close();
      await store.close();
      if (!keepDir && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
