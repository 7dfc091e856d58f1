// Bad-input corpus B.2 (reference/security.md): algorithm, key and header attacks, against the
// real broker over real HTTP. The broker trusts two issuers: `actions` (GitHub-shaped: RS256 only,
// kid required) and `idp` (a generic OIDC IdP allowing RS256 and ES256), each with its own JWKS.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES, startBroker, type TestBroker } from '../helpers/broker.ts';
import { base64url, JWKS_PATH, startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

// The result vocabulary of §B.0: the family fixes the status.
const STATUS = { invalid_token: 401 } as const;
const refusal = (error: keyof typeof STATUS, reason: string) => ({ status: STATUS[error], error, reason });

interface Answer {
  status: number;
  body: Record<string, unknown>;
}
const outcome = ({ status, body }: Answer) => ({ status, error: body['error'], reason: body['reason'] });

const IDP_SUBJECT = 'user-1';
let actions: OidcIssuer;
let idp: OidcIssuer;
/** Never sees a token that reaches jose, so it never fetches keys: any issuer request is a failure. */
let cold: TestBroker;
/** Has fetched both issuers' keys. */
let warm: TestBroker;

beforeAll(async () => {
  [actions, idp] = await Promise.all([startOidcIssuer(), startOidcIssuer()]);
  // The IdP's own ES256 key, so B-32 has a real EC key to forge against.
  idp.publishKey('attacker-ec');
  const opts = {
    issuerUrl: actions.url,
    extraIssuers: [{ name: 'idp', kind: 'oidc', issuer: idp.url }],
    policies: [
      ...DEFAULT_POLICIES,
      { name: 'idp-user', issuer: 'idp', match: { sub: IDP_SUBJECT }, grant: { scopes: ['messages:create'], ttl: '15m' } },
    ],
  };
  [cold, warm] = await Promise.all([startBroker(opts), startBroker(opts)]);
  expect((await warm.exchange(await actions.sign(actions.githubClaims()))).status).toBe(200);
  expect((await warm.exchange(await idpSign(idpClaims()))).status).toBe(200);
});
afterAll(async () => {
  await Promise.all([cold.close(), warm.close()]);
  await Promise.all([actions.close(), idp.close()]);
});

const idpClaims = (overrides: Record<string, unknown> = {}) => idp.githubClaims({ sub: IDP_SUBJECT, ...overrides });
/** The IdP's header allowlist is alg, kid, typ: its tokens carry no x5t. */
const idpSign = (payload: Record<string, unknown>, opts: { key?: string; header?: Record<string, unknown> } = {}) =>
  idp.sign(payload, { ...opts, header: { x5t: undefined, ...opts.header } });
const claims = (overrides: Record<string, unknown> = {}) => actions.githubClaims(overrides);
/** A compact JWS from exact header text and a signature of our choosing. */
const assemble = (header: Record<string, unknown>, payload: Record<string, unknown>, signature: string) =>
  `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.${signature}`;
const jwksRequests = (issuer: OidcIssuer) => issuer.requests.filter((r) => r.path === JWKS_PATH).length;

/** Sends the token to the cold broker and checks that no request reached either issuer meanwhile. */
async function refuseBeforeIo(token: string): Promise<Answer> {
  const before = [actions.requests.length, idp.requests.length];
  const answer = await cold.exchange(token);
  expect([actions.requests.length, idp.requests.length], 'the broker contacted an issuer for a token it should refuse first').toEqual(before);
  return answer;
}

describe('B-17 alg none', () => {
  // The table allows malformed (the empty signature fails the pre-check) or alg_not_allowed; both
  // paths exist, so both are pinned: with a signature part the header allowlist refuses none.
  it.each([['none'], ['None'], ['NONE'], ['nOnE']])('alg %s with an empty signature → 401 malformed', async (alg) => {
    const token = assemble({ alg, typ: 'JWT', kid: actions.kid }, claims(), '');
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'malformed'));
  });

  it.each([['none'], ['None'], ['NONE'], ['nOnE']])('alg %s with a signature part → 401 alg_not_allowed', async (alg) => {
    const token = assemble({ alg, typ: 'JWT', kid: actions.kid }, claims(), randomBytes(256).toString('base64url'));
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'alg_not_allowed'));
  });
});

describe('B-18 RS256 → HS256 key confusion', () => {
  it('HMAC over the issuer public key with the real kid → 401 alg_not_allowed', async () => {
    const token = actions.hs256WithPublicKey({}, claims());
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'alg_not_allowed'));
  });

  it('the same against the IdP, whose allowlist is wider (RS256, ES256) → 401 alg_not_allowed', async () => {
    const token = idp.hs256WithPublicKey({ x5t: undefined }, idpClaims());
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'alg_not_allowed'));
  });
});

describe('B-19 allowed family, wrong alg → 401 alg_not_allowed', () => {
  it.each([
    ['ES256', 'attacker-ec'],
    ['PS256', 'attacker-rsa'],
    ['RS384', 'attacker-rsa'],
    ['RS512', 'attacker-rsa'],
    ['EdDSA', 'attacker-ed'],
  ])('%s signed with %s', async (alg, key) => {
    const token = await actions.sign(claims(), { key, alg, header: { alg } });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'alg_not_allowed'));
  });
});

describe('B-20 alg/kty mismatch on a real kid', () => {
  it('IdP (ES256 allowed): the real RSA kid with alg ES256 → 401 key_not_found', async () => {
    const token = await idpSign(idpClaims(), { key: 'attacker-ec', header: { alg: 'ES256', kid: idp.kid } });
    expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'key_not_found'));
  });

  // Mapped differently from the table for GitHub: ES256 is not on its allowlist, so the header
  // check refuses the token (alg_not_allowed) before any key lookup could (key_not_found).
  it('GitHub issuer: the real RSA kid with alg ES256 → 401 alg_not_allowed', async () => {
    const token = await actions.sign(claims(), { key: 'attacker-ec', header: { alg: 'ES256', kid: actions.kid } });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'alg_not_allowed'));
  });
});

describe('B-21 unknown kid', () => {
  it.each([
    ['attacker key, random kid', 'attacker-rsa'],
    // Were keys tried one by one, this one would verify.
    ['issuer key, random kid', 'current'],
  ])('%s → 401 key_not_found', async (_case, key) => {
    const token = await actions.sign(claims(), { key, header: { kid: randomBytes(20).toString('hex').toUpperCase() } });
    expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'key_not_found'));
  });

  it('ten unknown kids cause at most one JWKS refetch (cooldown)', async () => {
    const before = jwksRequests(actions);
    for (let i = 0; i < 10; i++) {
      const token = await actions.sign(claims(), { key: 'attacker-rsa', header: { kid: `kid-${i}` } });
      expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'key_not_found'));
    }
    expect(jwksRequests(actions) - before).toBeLessThanOrEqual(1);
  });
});

describe('B-23 missing kid', () => {
  it('GitHub token without kid → 401 unsupported_header', async () => {
    const token = await actions.sign(claims(), { header: { kid: undefined } });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'unsupported_header'));
  });
});

describe('B-24 jku header injection', () => {
  let attacker: Server;
  let attackerUrl: string;
  const attackerRequests: string[] = [];

  beforeAll(async () => {
    // Serves the attacker's key, so a broker that followed jku would find it and accept the token.
    attacker = createServer((req, res) => {
      attackerRequests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [actions.publicJwk('attacker-rsa')] }));
    });
    attacker.listen(0, '127.0.0.1');
    await once(attacker, 'listening');
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    attacker.closeAllConnections();
    await new Promise((resolve) => attacker.close(resolve));
  });

  it.each([
    ['cold broker', () => cold],
    ['warm broker', () => warm],
  ])('attacker-signed token with jku → 401 unsupported_header; %s sends nothing anywhere', async (_case, broker) => {
    const kid = String(actions.publicJwk('attacker-rsa')['kid']);
    const token = await actions.sign(claims(), { key: 'attacker-rsa', header: { jku: attackerUrl, kid } });
    const before = [actions.requests.length, idp.requests.length];
    expect(outcome(await broker().exchange(token))).toEqual(refusal('invalid_token', 'unsupported_header'));
    expect(attackerRequests).toEqual([]);
    expect([actions.requests.length, idp.requests.length]).toEqual(before);
  });
});

describe('B-25 x5u / x5c / x5t#S256 injection → 401 unsupported_header', () => {
  it.each([
    ['x5u', { x5u: 'https://attacker.example/chain.pem' }],
    ['x5c', { x5c: [randomBytes(600).toString('base64')] }],
    ['x5t#S256', { 'x5t#S256': randomBytes(32).toString('base64url') }],
  ])('%s', async (_case, extra) => {
    const token = await actions.sign(claims(), { key: 'attacker-rsa', header: { ...extra, kid: actions.kid } });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'unsupported_header'));
  });

  it('x5t is informational: a wrong x5t on an otherwise good token is accepted', async () => {
    const token = await actions.sign(claims(), { header: { x5t: randomBytes(20).toString('base64url') } });
    expect((await warm.exchange(token)).status).toBe(200);
  });
});

describe('B-26 embedded jwk', () => {
  it('attacker public key in the header, signed with its private key → 401 unsupported_header', async () => {
    const jwk = actions.publicJwk('attacker-rsa');
    const token = await actions.sign(claims(), { key: 'attacker-rsa', header: { jwk } });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'unsupported_header'));
  });
});

describe('B-27 / B-28 crit', () => {
  // B-28 expects malformed (jose's ERR_JWS_INVALID) for a malformed crit; the broker's header
  // allowlist does not list crit at all, so every crit, well-formed or not, is unsupported_header.
  // "crit in the unprotected header" has no compact serialisation: there is nothing to send.
  it.each([
    ['B-27 crit ["exp"] with exp in the header', { crit: ['exp'], exp: Math.floor(Date.now() / 1000) + 60 }],
    ['B-27 crit ["x-policy"]', { crit: ['x-policy'], 'x-policy': 'admin' }],
    ['B-28 crit []', { crit: [] }],
    ['B-28 crit [null]', { crit: [null] }],
    ['B-28 crit ""', { crit: '' }],
  ])('%s → 401 unsupported_header', async (_case, extra) => {
    const token = await actions.sign(claims(), { header: extra });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'unsupported_header'));
  });
});

describe('B-29 typ mismatch', () => {
  it.each([
    ['typ at+jwt', { typ: 'at+jwt' }],
    ['typ application/at+jwt', { typ: 'application/at+jwt' }],
    ['typ missing', { typ: undefined }],
    ['typ not a string', { typ: 1 }],
  ])('GitHub token with %s → 401 claim_invalid', async (_case, header) => {
    const token = await actions.sign(claims(), { header });
    expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'claim_invalid'));
  });

  it('typ is a media type, compared without case: "jwt" is accepted', async () => {
    expect((await warm.exchange(await actions.sign(claims(), { header: { typ: 'jwt' } }))).status).toBe(200);
  });
});

describe('B-30 cross-issuer key use', () => {
  it("iss = GitHub, signed by the IdP's key under the IdP's kid → 401 key_not_found", async () => {
    // The warm broker holds the IdP's keys (beforeAll exchanged an IdP token): JWKS are not merged.
    const token = await idp.sign(claims());
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid: idp.kid });
    expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'key_not_found'));
  });

  it("iss = IdP, signed by GitHub's key under GitHub's kid → 401 key_not_found", async () => {
    const token = await actions.sign(idpClaims(), { header: { x5t: undefined } });
    expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'key_not_found'));
  });
});

describe('B-31 bad or altered signature → 401 bad_signature', () => {
  const flipBitInSub = (token: string) => {
    const [header, payload, sig] = token.split('.') as [string, string, string];
    const json = Buffer.from(payload, 'base64url').toString();
    const sub = String((JSON.parse(json) as Record<string, unknown>)['sub']);
    const at = sub.indexOf('octo-repo') + 4; // the "o" of "repo" → "n"
    const flipped = `${sub.slice(0, at)}${String.fromCharCode(sub.charCodeAt(at) ^ 1)}${sub.slice(at + 1)}`;
    return `${header}.${base64url(json.replace(sub, flipped))}.${sig}`;
  };
  const expired = () => {
    const iat = Math.floor(Date.now() / 1000) - 3600;
    return claims({ iat, nbf: iat, exp: iat + 300 });
  };

  it.each([
    ['one bit flipped in sub, signature kept', async () => flipBitInSub(await actions.sign(claims()))],
    ['signature truncated by 10 characters', async () => (await actions.sign(claims())).slice(0, -10)],
    ['signature bytes of another message', async () => {
      const [h, p] = (await actions.sign(claims())).split('.');
      return `${h}.${p}.${(await actions.sign(claims())).split('.')[2]}`;
    }],
    ['signed by another RSA key under the real kid', () => actions.sign(claims(), { key: 'attacker-rsa', header: { kid: actions.kid } })],
    // Signatures are compared before claims: an expired forgery is a forgery first.
    ['expired and signed by another key', () => actions.sign(expired(), { key: 'attacker-rsa', header: { kid: actions.kid } })],
  ])('%s', async (_case, build) => {
    expect(outcome(await warm.exchange(await build()))).toEqual(refusal('invalid_token', 'bad_signature'));
  });

  it('control: the same expired claims, genuinely signed → 401 expired', async () => {
    expect(outcome(await warm.exchange(await actions.sign(expired())))).toEqual(refusal('invalid_token', 'expired'));
  });
});

describe('B-32 ECDSA degenerate signature (psychic signatures)', () => {
  const ecKid = () => String(idp.publicJwk('attacker-ec')['kid']);

  it('ES256 with r = 0, s = 0 on the IdP → 401 bad_signature', async () => {
    const token = assemble({ alg: 'ES256', typ: 'JWT', kid: ecKid() }, idpClaims(), Buffer.alloc(64).toString('base64url'));
    expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'bad_signature'));
  });

  it('control: the same claims genuinely signed with that EC key are accepted', async () => {
    expect((await warm.exchange(await idpSign(idpClaims(), { key: 'attacker-ec' }))).status).toBe(200);
  });
});
