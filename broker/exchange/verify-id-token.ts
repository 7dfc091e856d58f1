import { errors as jose, jwtVerify } from 'jose';
import { BrokerError, idpUnavailable, invalidToken } from '../errors.ts';
import { parseStrictJson, StrictJsonError } from '../json/strict-json.ts';
import { parseGithubSubject } from '../policy/github-subject.ts';
import type { IssuerKeys } from './issuer-keys.ts';
import type { IssuerSpec } from './issuers.ts';

export const MAX_TOKEN_BYTES = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface VerifiedIdToken {
  issuer: IssuerSpec;
  claims: Record<string, unknown>;
}

export interface VerifyDeps {
  issuers: readonly IssuerSpec[];
  keys: IssuerKeys;
  now: () => number;
}

/**
 * `verifyIdToken` checks an OIDC ID token completely or throws a 401 `invalid_token` with a
 * stable reason (503 when the issuer's keys cannot be had). Order matters: cheap structural checks
 * and the issuer allowlist come before any network I/O, the signature before any claim.
 */
export async function verifyIdToken(token: string, deps: VerifyDeps): Promise<VerifiedIdToken> {
  if (token.length > MAX_TOKEN_BYTES) throw invalidToken('token_too_large', `the ID token is larger than ${MAX_TOKEN_BYTES} bytes`);
  if (!COMPACT_JWS.test(token)) throw invalidToken('malformed', 'the ID token is not a compact JWS (three base64url parts separated by dots)');
  const [rawHeader, rawPayload] = token.split('.') as [string, string, string];
  const header = decodePart(rawHeader, 'header');
  const payload = decodePart(rawPayload, 'payload');

  // Enforce the issuer allowlist before spending a discovery or JWKS fetch on an issuer we may reject.
  const iss = payload['iss'];
  if (iss === undefined) throw invalidToken('claim_missing', 'the ID token has no iss claim');
  const issuer = deps.issuers.find((s) => s.issuer === iss);
  if (!issuer) throw invalidToken('issuer_not_trusted', `issuer ${quote(iss)} is not trusted; an operator must add it to issuers in the config`);
  checkHeader(header, issuer);

  try {
    await jwtVerify(token, deps.keys.getKey(issuer), {
      algorithms: issuer.algorithms,
      issuer: issuer.issuer,
      audience: issuer.audience,
      requiredClaims: issuer.requiredClaims,
      maxTokenAge: issuer.maxTokenAgeSec,
      clockTolerance: issuer.clockToleranceSec,
      currentDate: new Date(deps.now()),
      ...(issuer.typ !== undefined && { typ: issuer.typ }),
    });
  } catch (err) {
    throw translateJoseError(err, issuer);
  }
  checkClaims(payload, issuer);
  return { issuer, claims: payload };
}

function decodePart(part: string, which: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseStrictJson(utf8.decode(Buffer.from(part, 'base64url')));
  } catch (err) {
    if (err instanceof StrictJsonError && err.problem !== 'invalid_json') {
      throw invalidToken(err.problem === 'duplicate_key' ? 'duplicate_member' : 'malformed', `the ID token ${which} ${err.message}`);
    }
    throw invalidToken('malformed', `the ID token ${which} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidToken('malformed', `the ID token ${which} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Only the header parameters this issuer uses; jku, x5u, x5c, jwk, crit, cty… are never honoured. */
function checkHeader(header: Record<string, unknown>, issuer: IssuerSpec): void {
  const extra = Object.keys(header).filter((k) => !issuer.allowedHeaders.has(k));
  if (extra.length > 0) {
    throw invalidToken('unsupported_header', `the ID token header carries ${extra.join(', ')}, which issuer ${issuer.name} does not use`);
  }
  if (typeof header['alg'] !== 'string' || !issuer.algorithms.includes(header['alg'])) {
    throw invalidToken('alg_not_allowed', `issuer ${issuer.name} signs with ${issuer.algorithms.join(', ')}; the token's alg is ${quote(header['alg'])}`);
  }
  if (issuer.requireKid && typeof header['kid'] !== 'string') {
    throw invalidToken('unsupported_header', `tokens of issuer ${issuer.name} must name their signing key (kid)`);
  }
  // Issuers without a pinned typ still never type an ID token as an access token (RFC 9068 §2.1,
  // RFC 8725 §3.11): an at+jwt with our audience is an API token, not a login.
  if (typeof header['typ'] === 'string' && /^(?:application\/)?at\+jwt$/i.test(header['typ'])) {
    throw invalidToken('claim_invalid', 'the token is typed at+jwt: an access token is not an ID token');
  }
}

/** Checks jose leaves to the application: date types, lifetime, audience shape, odd strings. */
function checkClaims(claims: Record<string, unknown>, issuer: IssuerSpec): void {
  for (const name of ['exp', 'iat', 'nbf'] as const) {
    const v = claims[name];
    if (v !== undefined && !Number.isSafeInteger(v)) throw invalidToken('claim_invalid', `the ${name} claim must be a whole number of seconds`);
  }
  const exp = claims['exp'] as number;
  const iat = claims['iat'] as number;
  if (exp - iat > issuer.maxLifetimeSec) {
    throw invalidToken('lifetime_too_long', `the ID token lives ${exp - iat}s; issuer ${issuer.name} allows at most ${issuer.maxLifetimeSec}s`);
  }
  const aud = claims['aud'];
  if (Array.isArray(aud) && (issuer.kind === 'github' || (aud.length > 1 && claims['azp'] !== issuer.audience))) {
    throw invalidToken('audience_mismatch', `the ID token names several audiences; request it for ${issuer.audience} alone`);
  }
  for (const [name, value] of Object.entries(claims)) {
    if (typeof value === 'string' && !isCleanString(value)) throw invalidToken('claim_invalid', `the ${name} claim holds control characters or broken Unicode`);
  }
  const sub = claims['sub'];
  const jti = claims['jti'];
  if (typeof sub !== 'string' || sub === '' || sub.length > 512 || /[\s"'`\\<>;&$(){}[\]]/u.test(sub)) {
    throw invalidToken('claim_invalid', 'the sub claim is empty, too long, or holds characters no issuer uses');
  }
  if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw invalidToken('claim_invalid', 'the jti claim must be a non-empty string');
  if (issuer.kind === 'github') checkGithubSubject(sub, claims);
}

/** An immutable subject carries the ids again; they must agree with the id claims. */
function checkGithubSubject(sub: string, claims: Record<string, unknown>): void {
  const parsed = parseGithubSubject(sub);
  if (parsed?.ownerId !== undefined && parsed.ownerId !== claims['repository_owner_id']) {
    throw invalidToken('claim_invalid', 'the sub claim names another repository_owner_id than the token');
  }
  if (parsed?.repoId !== undefined && parsed.repoId !== claims['repository_id']) {
    throw invalidToken('claim_invalid', 'the sub claim names another repository_id than the token');
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/u;
const isCleanString = (s: string) => s.isWellFormed() && !CONTROL.test(s);

function translateJoseError(err: unknown, issuer: IssuerSpec): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof jose.JWSSignatureVerificationFailed) return invalidToken('bad_signature', 'the ID token signature does not verify');
  if (err instanceof jose.JOSEAlgNotAllowed) return invalidToken('alg_not_allowed', `issuer ${issuer.name} signs with ${issuer.algorithms.join(', ')}`);
  if (err instanceof jose.JWKSNoMatchingKey || err instanceof jose.JWKSMultipleMatchingKeys) {
    return invalidToken('key_not_found', `issuer ${issuer.name} publishes no key matching the token's kid and alg`);
  }
  if (err instanceof jose.JWKSTimeout) return idpUnavailable(`the keys of issuer ${issuer.name} did not arrive in time; retry later`);
  if (err instanceof jose.JWKSInvalid) return idpUnavailable(`issuer ${issuer.name} serves an invalid JWKS`);
  if (err instanceof jose.JWTExpired) {
    return err.claim === 'exp'
      ? invalidToken('expired', 'the ID token has expired; request a fresh one right before the exchange')
      : invalidToken('too_old', `the ID token was issued more than ${issuer.maxTokenAgeSec}s ago; request a fresh one`);
  }
  if (err instanceof jose.JWTClaimValidationFailed) return translateClaimError(err, issuer);
  if (err instanceof jose.JOSENotSupported) return invalidToken('unsupported_header', `the ID token uses a JOSE feature skillgate does not accept (${err.message})`);
  if (err instanceof jose.JWSInvalid || err instanceof jose.JWTInvalid) return invalidToken('malformed', `the ID token is malformed (${err.message})`);
  // jose refuses weak keys (RSA < 2048 bits) with a TypeError while importing them.
  if (err instanceof TypeError && /modulusLength|key/i.test(err.message)) {
    return invalidToken('key_not_found', `issuer ${issuer.name} signs with a key skillgate refuses (too weak or wrong type)`);
  }
  if (err instanceof jose.JOSEError) return idpUnavailable(`cannot use the keys of issuer ${issuer.name}; retry later`);
  return idpUnavailable(`cannot verify tokens of issuer ${issuer.name} right now; retry later`);
}

function translateClaimError(err: InstanceType<typeof jose.JWTClaimValidationFailed>, issuer: IssuerSpec): BrokerError {
  if (err.reason === 'missing') return invalidToken('claim_missing', `the ID token has no ${err.claim} claim`);
  switch (err.claim) {
    case 'aud':
      return invalidToken('audience_mismatch', `the ID token was minted for another audience; request it with audience ${issuer.audience}`);
    case 'iss':
      return invalidToken('issuer_not_trusted', 'the ID token issuer is not trusted');
    case 'nbf':
      return invalidToken('not_yet_valid', 'the ID token is not valid yet (nbf); check the clocks');
    case 'iat':
      return /in the past/.test(err.message)
        ? invalidToken('issued_in_future', 'the ID token was issued in the future; check the clocks')
        : invalidToken('claim_invalid', 'the iat claim is invalid');
    case 'typ':
      return invalidToken('claim_invalid', `the ID token typ must be ${issuer.typ ?? 'JWT'}; an access token is not an ID token`);
    default:
      return invalidToken('claim_invalid', `the ${err.claim} claim is invalid`);
  }
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
