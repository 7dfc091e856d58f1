import { isAbsolute, resolve } from 'node:path';
import { validate as validateCron } from 'node-cron';
import { parseDuration } from '../config/duration.ts';
import { CredentialRefError, parseCredentialRef } from '../credentials/index.ts';
import type { IssuerSpec } from '../exchange/issuers.ts';
import type { ReconcilerFile } from './reconcile-schema.ts';

/** The reconciler's settings after load. Credentials stay references: they are fetched per run. */
export interface ReconcilerConfig {
  schedule?: string;
  timezone?: string;
  staleAfterSec: number;
  safety: { maxShare: number; floor: number };
  github?: { tokenRef: string; orgs: string[]; apiUrl: string; exemptActors: string[]; repositories: boolean };
  idp?: { source: { kind: 'scim'; url: string; tokenRef?: string } | { kind: 'file'; path: string }; claim: 'email' | 'sub'; issuers: string[] };
  anthropicKeys?: { adminKeyRef: string; baseUrl: string; staleAfterSec: number; enforce: boolean; exempt: string[] };
  scopeDriftWindowSec: number;
  reports: { directory?: string; webhookUrl?: string; githubIssue?: { repository: string; title: string; mode: 'append' | 'create'; labels: string[] } };
}

export interface ReconcilerConfigContext {
  issuers: readonly IssuerSpec[];
  baseDir: string;
  /** Resolves an env: / file: reference, reporting a failure as a problem. */
  secret: (ref: string, at: string) => string;
}

/**
 * `compileReconcilerConfig` checks the `reconciler:` section: the cron expression, credential
 * references, URLs, and that the IdP check names oidc issuers. Problems name the field and the fix.
 */
export function compileReconcilerConfig(r: ReconcilerFile, ctx: ReconcilerConfigContext, problems: string[]): ReconcilerConfig {
  if (r.schedule !== undefined && !validateCron(r.schedule)) {
    problems.push(`reconciler.schedule: "${r.schedule}" is not a cron expression; write five fields (minute hour day month weekday), e.g. "*/15 * * * *"`);
  }
  if (r.timezone !== undefined && !isTimeZone(r.timezone)) problems.push(`reconciler.timezone: "${r.timezone}" is not an IANA time zone such as UTC or Europe/Berlin`);
  const credential = (ref: string, at: string) => {
    try {
      parseCredentialRef(ref);
    } catch (err) {
      if (err instanceof CredentialRefError) problems.push(`${at}: ${err.message}`);
      else throw err;
    }
    return ref;
  };
  const staleAfterSec = parseDuration(r.stale_after ?? '7d');
  const reports = r.reports ?? {};
  if (reports.github_issue && !r.github) problems.push('reconciler.reports.github_issue: files issues with github.token; add reconciler.github');
  const webhook = reports.webhook_url;
  const webhookUrl = webhook === undefined ? undefined : checkUrl(/^(env|file):/.test(webhook) ? ctx.secret(webhook, 'reconciler.reports.webhook_url') : webhook, 'reconciler.reports.webhook_url', problems, false);
  return {
    ...(r.schedule !== undefined && { schedule: r.schedule }),
    ...(r.timezone !== undefined && { timezone: r.timezone }),
    staleAfterSec,
    safety: { maxShare: r.safety?.max_share ?? 0.25, floor: r.safety?.floor ?? 3 },
    ...(r.github && {
      github: {
        tokenRef: credential(r.github.token, 'reconciler.github.token'),
        orgs: r.github.orgs,
        apiUrl: (checkUrl(r.github.api_url ?? 'https://api.github.com', 'reconciler.github.api_url', problems, true) ?? '').replace(/\/$/, ''),
        exemptActors: r.github.exempt_actors ?? [],
        repositories: r.github.repositories ?? true,
      },
    }),
    ...(r.idp && { idp: compileIdp(r.idp, ctx, problems) }),
    ...(r.anthropic_keys && {
      anthropicKeys: {
        adminKeyRef: credential(r.anthropic_keys.admin_key, 'reconciler.anthropic_keys.admin_key'),
        baseUrl: (checkUrl(r.anthropic_keys.base_url ?? 'https://api.anthropic.com', 'reconciler.anthropic_keys.base_url', problems, true) ?? '').replace(/\/$/, ''),
        staleAfterSec: parseDuration(r.anthropic_keys.stale_after ?? '30d'),
        enforce: r.anthropic_keys.enforce ?? false,
        exempt: r.anthropic_keys.exempt ?? [],
      },
    }),
    scopeDriftWindowSec: parseDuration(r.scope_drift?.window ?? '30d'),
    reports: {
      ...(reports.directory !== undefined && { directory: inside(ctx.baseDir, reports.directory) }),
      ...(webhookUrl !== undefined && { webhookUrl }),
      ...(reports.github_issue && {
        githubIssue: {
          repository: reports.github_issue.repository,
          title: reports.github_issue.title ?? 'skillgate revocation reports',
          mode: reports.github_issue.mode ?? 'append',
          labels: reports.github_issue.labels ?? [],
        },
      }),
    },
  };
}

function compileIdp(idp: NonNullable<ReconcilerFile['idp']>, ctx: ReconcilerConfigContext, problems: string[]): NonNullable<ReconcilerConfig['idp']> {
  const oidc = ctx.issuers.filter((i) => i.kind === 'oidc').map((i) => i.name);
  for (const [i, name] of (idp.issuers ?? []).entries()) {
    if (!oidc.includes(name)) problems.push(`reconciler.idp.issuers[${i}]: "${name}" is not an issuer of kind oidc; known oidc issuers: ${oidc.join(', ') || '(none)'}`);
  }
  if ((idp.scim_url === undefined) === (idp.file === undefined)) {
    problems.push('reconciler.idp: give exactly one directory source: scim_url (with scim_token) or file');
  }
  if (idp.scim_token !== undefined) {
    try {
      parseCredentialRef(idp.scim_token);
    } catch (err) {
      if (err instanceof CredentialRefError) problems.push(`reconciler.idp.scim_token: ${err.message}`);
      else throw err;
    }
  }
  const source =
    idp.scim_url !== undefined
      ? { kind: 'scim' as const, url: (checkUrl(idp.scim_url, 'reconciler.idp.scim_url', problems, true) ?? '').replace(/\/$/, ''), ...(idp.scim_token !== undefined && { tokenRef: idp.scim_token }) }
      : { kind: 'file' as const, path: inside(ctx.baseDir, idp.file ?? '') };
  return { source, claim: idp.claim ?? 'email', issuers: idp.issuers ?? oidc };
}

/** Outbound URLs are https; plain http only to loopback (tests, a local relay). Never quoted: a webhook URL may be a secret. */
function checkUrl(text: string, at: string, problems: string[], quote: boolean): string | undefined {
  try {
    const url = new URL(text);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if ((url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) && !url.username && !url.password) return url.href;
  } catch {
    // reported below
  }
  if (text !== '') problems.push(`${at}: ${quote ? `"${text}" ` : ''}must be an https URL without credentials (http only for 127.0.0.1 / localhost)`);
  return undefined;
}

function inside(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
