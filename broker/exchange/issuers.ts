import type { IssuerConfig } from '../config/schema.ts';
import { parseDuration } from '../config/duration.ts';

/** GitHub Actions' public issuer, trusted without any config entry (as `issuers: [{name: github}]`). */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** A trusted issuer after config load: everything verification pins for its tokens. */
export interface IssuerSpec {
  name: string;
  kind: 'github' | 'oidc';
  issuer: string;
  audience: string;
  algorithms: string[];
  /** Set to skip discovery. */
  jwksUri?: string;
  maxTokenAgeSec: number;
  maxLifetimeSec: number;
  clockToleranceSec: number;
  /** A policy of this issuer must bind at least one of these claims to exact values. */
  identityClaims: string[];
  /** JOSE header parameters a token may carry; anything else (jku, x5u, jwk, crit, cty…) is refused. */
  allowedHeaders: ReadonlySet<string>;
  requireKid: boolean;
  typ?: string;
  requiredClaims: string[];
}

const GITHUB_DEFAULTS: Omit<IssuerSpec, 'name' | 'kind' | 'issuer' | 'audience'> = {
  algorithms: ['RS256'],
  maxTokenAgeSec: 600,
  maxLifetimeSec: 3600,
  clockToleranceSec: 60,
  identityClaims: ['repository_id', 'repository_owner_id', 'enterprise_id'],
  allowedHeaders: new Set(['alg', 'kid', 'typ', 'x5t']),
  requireKid: true,
  typ: 'JWT',
  requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti', 'aud'],
};

const OIDC_DEFAULTS: Omit<IssuerSpec, 'name' | 'kind' | 'issuer' | 'audience'> = {
  algorithms: ['RS256', 'ES256'],
  maxTokenAgeSec: 3600,
  maxLifetimeSec: 86_400,
  clockToleranceSec: 60,
  identityClaims: ['sub'],
  allowedHeaders: new Set(['alg', 'kid', 'typ']),
  requireKid: false,
  requiredClaims: ['exp', 'iat', 'sub', 'jti', 'aud'],
};

/**
 * `compileIssuers` validates the issuer entries and adds the built-in GitHub issuer.
 * Problems are appended to `problems` (with their config path) so boot reports all of them at once.
 */
export function compileIssuers(entries: IssuerConfig[], audience: string, problems: string[]): IssuerSpec[] {
  const specs: IssuerSpec[] = [];
  const names = new Set<string>();
  entries.forEach((entry, i) => {
    const at = `issuers[${i}]`;
    if (names.has(entry.name)) problems.push(`${at}.name: issuer name "${entry.name}" is used twice; names must be unique`);
    names.add(entry.name);
    const issuer = issuerUrl(entry, at, problems);
    if (issuer === undefined) return;
    const kind = entry.kind ?? 'github';
    const d = kind === 'github' ? GITHUB_DEFAULTS : OIDC_DEFAULTS;
    if (entry.jwks_uri !== undefined) checkUrl(entry.jwks_uri, `${at}.jwks_uri`, problems);
    specs.push({
      name: entry.name,
      kind,
      issuer,
      audience: entry.audience ?? audience,
      algorithms: entry.algorithms ?? d.algorithms,
      ...(entry.jwks_uri === undefined ? {} : { jwksUri: entry.jwks_uri }),
      maxTokenAgeSec: entry.max_token_age === undefined ? d.maxTokenAgeSec : parseDuration(entry.max_token_age),
      maxLifetimeSec: entry.max_lifetime === undefined ? d.maxLifetimeSec : parseDuration(entry.max_lifetime),
      clockToleranceSec: entry.clock_tolerance === undefined ? d.clockToleranceSec : parseDuration(entry.clock_tolerance),
      identityClaims: entry.identity_claims ?? d.identityClaims,
      allowedHeaders: d.allowedHeaders,
      requireKid: d.requireKid,
      ...(d.typ !== undefined && { typ: d.typ }),
      requiredClaims: d.requiredClaims,
    });
  });
  if (!names.has('github')) {
    specs.push({ name: 'github', kind: 'github', issuer: GITHUB_ISSUER, audience, ...GITHUB_DEFAULTS });
  }
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const other = seen.get(spec.issuer);
    if (other !== undefined) problems.push(`issuers: "${spec.name}" and "${other}" have the same issuer ${spec.issuer}; keep one`);
    seen.set(spec.issuer, spec.name);
  }
  return specs;
}

/** Exactly one way of naming the issuer, turned into the exact `iss` string. */
function issuerUrl(entry: IssuerConfig, at: string, problems: string[]): string | undefined {
  const given = [
    entry.issuer === undefined ? undefined : entry.issuer.replace(/\/$/, ''),
    entry.github_enterprise_slug === undefined ? undefined : `${GITHUB_ISSUER}/${entry.github_enterprise_slug}`,
    entry.ghes_hostname === undefined ? undefined : `https://${entry.ghes_hostname}/_services/token`,
    entry.ghe_com_subdomain === undefined ? undefined : `https://token.actions.${entry.ghe_com_subdomain}.ghe.com`,
  ].filter((v): v is string => v !== undefined);
  if (given.length !== 1) {
    problems.push(`${at}: set exactly one of issuer, github_enterprise_slug, ghes_hostname or ghe_com_subdomain (found ${given.length})`);
    return undefined;
  }
  const url = given[0]!;
  return checkUrl(url, `${at}.issuer`, problems) ? url : undefined;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https only; plain http is allowed for loopback hosts so tests and demos can run a local issuer. */
function checkUrl(text: string, at: string, problems: string[]): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${at}: "${text}" is not a URL`);
    return false;
  }
  if (url.username || url.password || url.search || url.hash) {
    problems.push(`${at}: the URL must not carry credentials, a query or a fragment`);
    return false;
  }
  if (url.protocol === 'https:') return true;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return true;
  problems.push(`${at}: use https (plain http is accepted only for 127.0.0.1 / localhost, for local testing)`);
  return false;
}
