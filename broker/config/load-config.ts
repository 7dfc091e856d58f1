import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { compileIssuers, type IssuerSpec } from '../exchange/issuers.ts';
import { compilePolicies, type CompiledPolicy } from '../policy/compile-policies.ts';
import { compileApprovalsConfig, type ApprovalsConfig } from '../approvals/approval-config.ts';
import { compileReconcilerConfig, type ReconcilerConfig } from '../reconcile/reconcile-config.ts';
import { describeSchemaErrors } from './describe-errors.ts';
import { ConfigSchema, type ConfigFile } from './schema.ts';
import { resolveSecretRef, SecretRefError, type SecretRef } from './secret-ref.ts';
import { parseDuration } from './duration.ts';

/** The broker's configuration after validation, with secrets resolved and policies compiled. */
export interface Config {
  source: string;
  audience: string;
  listen: { host: string; port: number };
  /** SQLite file path, or ':memory:'. */
  storePath: string;
  logLevel: string;
  operators: { name: string; token: string }[];
  issuers: IssuerSpec[];
  policies: CompiledPolicy[];
  publicUrl: string;
  upstream?: { origin: string; credential: string; refreshIntervalSec: number; staleWindowSec: number; responseTimeoutSec: number; maxRequestBytes: number };
  masking: { values: string[]; patterns: { name: string; regex: string }[] };
  /** Approvers, the approval webhook and the pending timeout (`approvers`, `approvals`). */
  approvals: ApprovalsConfig;
  /** The reconciler (`reconciler:`); absent when the section is. */
  reconciler?: ReconcilerConfig;
  baseDir: string;
  /** Advice that did not stop the load (printed at boot and by `policy check`). */
  warnings: string[];
}

/** Every problem in a config file, reported together so one edit can fix them all. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile<ConfigFile>(ConfigSchema);

/** `loadConfig` reads, validates and compiles a YAML config file; throws ConfigError listing every problem. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'}); pass --config or set SKILLGATE_CONFIG`]);
  }
  return parseConfig(text, { source: path, baseDir: dirname(resolve(path)), env });
}

/** `parseConfig` is loadConfig for text already in memory (tests, `policy check` on stdin). */
export function parseConfig(text: string, opts: { source: string; baseDir: string; env?: NodeJS.ProcessEnv }): Config {
  // prettyErrors would quote the offending lines (a pasted secret among them); count lines instead.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      opts.source,
      doc.errors.map((e) => `YAML line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}${e.code === 'DUPLICATE_KEY' ? '; remove or merge the repeated key' : ''}`),
    );
  }
  const data: unknown = doc.toJS();
  if (!validate(data)) throw new ConfigError(opts.source, describeSchemaErrors(validate.errors ?? []));

  const problems: string[] = [];
  const warnings: string[] = [];
  const secret = (ref: string, at: string): string => {
    try {
      return resolveSecretRef(ref as SecretRef, opts.baseDir, opts.env);
    } catch (err) {
      if (err instanceof SecretRefError) problems.push(`${at}: ${err.message}`);
      else throw err;
      return '';
    }
  };
  const operators = (data.operators ?? []).map((o, i) => ({ name: o.name, token: secret(o.token, `operators[${i}].token`) }));
  const issuers = compileIssuers(data.issuers ?? [], data.audience, problems);
  const policies = compilePolicies(data.policies, issuers, problems, warnings);
  const approvals = compileApprovalsConfig(data, { operators, issuers, secret }, problems);
  const reconciler = data.reconciler && compileReconcilerConfig(data.reconciler, { issuers, baseDir: opts.baseDir, secret }, problems);
  data.policies.forEach((p, i) => {
    const masking = policies.find((c) => c.name === p.name)?.grant.masking;
    if (masking) masking.values = masking.values.map((ref, j) => secret(ref, `policies[${i}].grant.masking.values[${j}]`));
  });
  const maskValues = (data.masking?.values ?? []).map((ref, i) => secret(ref, `masking.values[${i}]`));
  for (const [i, p] of (data.masking?.patterns ?? []).entries()) {
    try {
      new RegExp(p.regex, 'gu');
    } catch (err) {
      problems.push(`masking.patterns[${i}].regex: invalid regular expression (${(err as Error).message})`);
    }
  }
  const upstream = data.upstream && {
    origin: upstreamOrigin(data.upstream.base_url ?? 'https://api.anthropic.com', problems),
    credential: data.upstream.credential,
    refreshIntervalSec: parseDuration(data.upstream.refresh_interval ?? '5m'),
    staleWindowSec: parseDuration(data.upstream.stale_window ?? '15m'),
    responseTimeoutSec: parseDuration(data.upstream.response_timeout ?? '10m'),
    maxRequestBytes: data.upstream.max_request_bytes ?? 32 * 1024 * 1024,
  };
  if (problems.length > 0) throw new ConfigError(opts.source, problems);
  const listen = { host: data.listen?.host ?? '127.0.0.1', port: data.listen?.port ?? 8080 };

  return {
    source: opts.source,
    audience: data.audience,
    listen,
    publicUrl: (data.public_url ?? `http://${listen.host}:${listen.port}`).replace(/\/$/, ''),
    ...(upstream && { upstream }),
    masking: { values: maskValues, patterns: data.masking?.patterns ?? [] },
    baseDir: opts.baseDir,
    storePath: storePath(data.store ?? 'sqlite:./skillgate.db', opts.baseDir),
    logLevel: data.log?.level ?? 'info',
    operators,
    issuers,
    policies,
    approvals,
    ...(reconciler && { reconciler }),
    warnings,
  };
}

/** The upstream is a constant origin: https, or plain http on loopback for the stub in tests. */
function upstreamOrigin(text: string, problems: string[]): string {
  try {
    const url = new URL(text);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if ((url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) && !url.username && !url.password && !url.search && !url.hash && (url.pathname === '/' || url.pathname === '')) {
      return url.origin;
    }
  } catch {
    // reported below
  }
  problems.push('upstream.base_url: must be an https origin without path, credentials or query (http only for 127.0.0.1)');
  return '';
}

function storePath(store: string, baseDir: string): string {
  const path = store.slice('sqlite:'.length);
  if (path === ':memory:') return path;
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
