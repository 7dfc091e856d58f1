// A GitHub-shaped OIDC issuer for tests: a real HTTP server on 127.0.0.1:0 serving discovery, the
// JWKS and the runner's ID-token endpoint, plus signers and knobs for the bad-input corpus
// (reference/security.md §B).
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildGithubClaims, SUPPORTED_CLAIMS, withoutUndefined } from './oidc-issuer/claims.ts';
import { base64url, createSigningKey, signJws } from './oidc-issuer/keys.ts';
import type { SigningKey } from './oidc-issuer/keys.ts';

export { base64url } from './oidc-issuer/keys.ts';
export { githubSubject, NOT_BEFORE_SKEW_SECONDS, TOKEN_LIFETIME_SECONDS } from './oidc-issuer/claims.ts';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/.well-known/jwks';
export const RUNNER_TOKEN_PATH = '/_apis/token';

export interface IssuerOptions {
  /** Default `aud` of githubClaims(); default 'https://skillgate.test'. */
  audience?: string;
  /** Clock in ms, for frozen-time tests; drives iat/nbf/exp and requests[].at. */
  now?: () => number;
  /** Modulus of the issuer's own RSA keys (current and rotated); default 2048. */
  keyBits?: number;
}

/**
 * 'current' and 'previous' are the issuer's keys (previous exists after rotate()); the others are
 * never in the JWKS unless published: 'attacker-rsa' (RSA-2048), 'attacker-ec' (P-256),
 * 'attacker-ed' (Ed25519), 'weak-rsa' (RSA-1024).
 */
export type SigningKeyName = 'current' | 'previous' | 'attacker-rsa' | 'attacker-ec' | 'attacker-ed' | 'weak-rsa' | string;

export interface SignOptions {
  /** Merged over {alg, typ: 'JWT', kid, x5t} of the signing key; a key set to undefined is removed. */
  header?: Record<string, unknown>;
  key?: SigningKeyName;
  /** Algorithm actually signed with; default header.alg, then the key's own. Lets header.alg lie. */
  alg?: string;
}

export interface OidcIssuer {
  /** Base URL and `iss`, e.g. http://127.0.0.1:43121 (no trailing slash). */
  url: string;
  jwksUri: string;
  /** kid of the current signing key (changes on rotate()). */
  kid: string;
  githubClaims(overrides?: Record<string, unknown>): Record<string, unknown>;
  sign(claims: Record<string, unknown>, opts?: SignOptions): Promise<string>;
  signRaw(header: Record<string, unknown> | string, payload: string | Uint8Array, opts?: { key?: SigningKeyName; alg?: string }): Promise<string>;
  hs256WithPublicKey(header: Record<string, unknown>, payload: Record<string, unknown>): string;
  /** Public JWK of any key, as the JWKS would list it (for `jwk` header injection, local verifies). */
  publicJwk(name: SigningKeyName): Record<string, unknown>;
  rotate(opts?: { dropPrevious?: boolean }): Promise<string>;
  publishKey(name: SigningKeyName): void;
  setJwksOverride(body: string | null): void;
  setAvailability(mode: 'up' | 'down' | { delayMs: number }): void;
  /** Every request received (pathname without query), including refused ones. */
  requests: { path: string; at: number }[];
  requestUrl: string;
  requestToken: string;
  setRunnerClaims(overrides: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** `startOidcIssuer` listens on 127.0.0.1:0 and resolves once the issuer is reachable. */
export async function startOidcIssuer(opts: IssuerOptions = {}): Promise<OidcIssuer> {
  const now = opts.now ?? Date.now;
  const audience = opts.audience ?? 'https://skillgate.test';
  const keyBits = opts.keyBits ?? 2048;

  const [current, attackerRsa, attackerEc, attackerEd, weakRsa] = await Promise.all([
    createSigningKey('RS256', keyBits),
    createSigningKey('RS256'),
    createSigningKey('ES256'),
    createSigningKey('EdDSA'),
    createSigningKey('RS256', 1024),
  ]);
  const keys = new Map<string, SigningKey>([
    ['current', current],
    ['attacker-rsa', attackerRsa],
    ['attacker-ec', attackerEc],
    ['attacker-ed', attackerEd],
    ['weak-rsa', weakRsa],
  ]);
  // Names, not keys: after rotate() 'current' and 'previous' point at new keys. Current stays first.
  const published = new Set<string>(['current']);
  const keyNamed = (name: string): SigningKey => {
    const key = keys.get(name);
    if (!key) throw new Error(`oidc-issuer: no signing key "${name}" (have ${[...keys.keys()].join(', ')})`);
    return key;
  };

  let jwksOverride: string | null = null;
  let availability: 'up' | 'down' | { delayMs: number } = 'up';
  let runnerOverrides: Record<string, unknown> = {};
  const requests: { path: string; at: number }[] = [];
  const delayed = new Set<NodeJS.Timeout>();
  const requestToken = randomBytes(24).toString('base64url');

  const server = createServer((req, res) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ path: pathname, at: now() });
    // 'down' destroys the socket without answering: clients see a network error, as with a crashed
    // IdP, rather than an HTTP status. It applies to every path, the runner endpoint included.
    if (availability === 'down') return void req.socket.destroy();
    const reply = (): void => void route(req, res, pathname, searchParams).catch(() => send(res, 500, '{}'));
    if (availability === 'up') return reply();
    const timer = setTimeout(() => {
      delayed.delete(timer);
      reply();
    }, availability.delayMs);
    delayed.add(timer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwksUri = `${url}${JWKS_PATH}`;

  const discovery = JSON.stringify({
    issuer: url,
    jwks_uri: jwksUri,
    subject_types_supported: ['public', 'pairwise'],
    response_types_supported: ['id_token'],
    claims_supported: SUPPORTED_CLAIMS,
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid'],
  });

  async function route(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> {
    if (req.method !== 'GET') return send(res, 405, '{"message":"Method Not Allowed"}');
    if (pathname === DISCOVERY_PATH) return send(res, 200, discovery);
    if (pathname === JWKS_PATH) {
      const jwks = { keys: [...published].map((name) => keyNamed(name).publicJwk) };
      return send(res, 200, jwksOverride ?? JSON.stringify(jwks));
    }
    if (pathname === RUNNER_TOKEN_PATH) {
      if (/^bearer (.*)$/i.exec(req.headers.authorization ?? '')?.[1] !== requestToken) {
        return send(res, 401, '{"message":"Unauthorized"}');
      }
      const claims = githubClaims(runnerOverrides);
      // Without ?audience= GitHub defaults aud to the owner's URL (a token skillgate must refuse).
      claims.aud = query.get('audience') ?? `https://github.com/${String(claims.repository_owner)}`;
      return send(res, 200, JSON.stringify({ value: await issuer.sign(claims) }));
    }
    send(res, 404, '{"message":"Not Found"}');
  }

  function githubClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return buildGithubClaims({ iss: url, aud: audience, nowMs: now() }, overrides);
  }

  function compact(headerJson: string, payload: string | Uint8Array, key: SigningKey, alg: string): string {
    const input = `${base64url(headerJson)}.${base64url(payload)}`;
    return `${input}.${signJws(input, key.privateKey, alg).toString('base64url')}`;
  }

  const issuer: OidcIssuer = {
    url,
    jwksUri,
    get kid() {
      return keyNamed('current').kid;
    },
    githubClaims,
    async sign(claims, signOpts = {}) {
      const key = keyNamed(signOpts.key ?? 'current');
      const header = withoutUndefined({ alg: signOpts.alg ?? key.alg, typ: 'JWT', kid: key.kid, x5t: key.x5t, ...signOpts.header });
      const alg = signOpts.alg ?? (typeof header.alg === 'string' ? header.alg : key.alg);
      return compact(JSON.stringify(header), JSON.stringify(claims), key, alg);
    },
    async signRaw(header, payload, rawOpts = {}) {
      const key = keyNamed(rawOpts.key ?? 'current');
      const headerAlg = typeof header === 'object' ? header.alg : undefined;
      const alg = rawOpts.alg ?? (typeof headerAlg === 'string' ? headerAlg : key.alg);
      return compact(typeof header === 'string' ? header : JSON.stringify(header), payload, key, alg);
    },
    hs256WithPublicKey(header, payload) {
      const key = keyNamed('current');
      const fullHeader = withoutUndefined({ alg: 'HS256', typ: 'JWT', kid: key.kid, x5t: key.x5t, ...header });
      const input = `${base64url(JSON.stringify(fullHeader))}.${base64url(JSON.stringify(payload))}`;
      return `${input}.${createHmac('sha256', key.publicPem).update(input).digest('base64url')}`;
    },
    publicJwk: (name) => keyNamed(name).publicJwk,
    async rotate(rotateOpts = {}) {
      const next = await createSigningKey('RS256', keyBits);
      // Only one previous key is kept: a second rotation retires the oldest key entirely.
      keys.set('previous', keyNamed('current'));
      keys.set('current', next);
      if (rotateOpts.dropPrevious) published.delete('previous');
      else published.add('previous');
      return next.kid;
    },
    publishKey(name) {
      keyNamed(name); // fail here, not at the next JWKS fetch
      published.add(name);
    },
    setJwksOverride(body) {
      jwksOverride = body;
    },
    setAvailability(mode) {
      availability = mode;
    },
    requests,
    requestUrl: `${url}${RUNNER_TOKEN_PATH}?api-version=2.0`,
    requestToken,
    setRunnerClaims(overrides) {
      runnerOverrides = overrides;
    },
    async close() {
      for (const timer of delayed) clearTimeout(timer);
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      // Keep-alive sockets (fetch, jose) would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
    },
  };
  return issuer;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}
