// Bad-input corpus B.3 (reference/security.md): standard claims and time, against the real broker
// over real HTTP with a frozen clock shared by the issuer and the broker, so the time boundaries
// (60 s tolerance, 10 min token age, 1 h lifetime) are exact.
// B-47 (the broker's own clock skewed with faketime) is not run: the boundaries below are already
// measured against the broker's injected clock, which is what the row asks of a skewed host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, TEST_AUDIENCE, type TestBroker } from '../helpers/broker.ts';
import { base64url, startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

// The result vocabulary of §B.0: the family fixes the status.
const STATUS = { invalid_token: 401, policy_denied: 403 } as const;
const refusal = (error: keyof typeof STATUS, reason: string) => ({ status: STATUS[error], error, reason });
const accepted = { status: 200, error: undefined, reason: undefined };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}
const outcome = ({ status, body }: Answer) => ({ status, error: body['error'], reason: body['reason'] });

// Whole seconds, so claim arithmetic is exact.
const NOW_SEC = Math.floor(Date.now() / 1000);
const now = () => NOW_SEC * 1000;
/** From the broker's issuer config (§B.0): GitHub issuers. */
const TOLERANCE = 60;
const MAX_AGE = 600;
const MAX_LIFETIME = 3600;

const IDP_SUBJECT = 'user-1';
const GRANT = { scopes: ['messages:create'], ttl: '15m' };
// Pins environment too, so B-50 can show that a non-string environment never matches.
const POLICIES = [
  { name: 'deploy', issuer: 'actions', match: { repository_owner_id: '65', repository_id: '74', ref: 'refs/heads/main', environment: 'prod' }, grant: GRANT },
  { name: 'idp-user', issuer: 'idp', match: { sub: IDP_SUBJECT }, grant: GRANT },
];

let issuer: OidcIssuer;
let idp: OidcIssuer;
let evil: OidcIssuer;
let broker: TestBroker;

beforeAll(async () => {
  [issuer, idp, evil] = await Promise.all([startOidcIssuer({ now }), startOidcIssuer({ now }), startOidcIssuer({ now })]);
  broker = await startBroker({ issuerUrl: issuer.url, now, policies: POLICIES, extraIssuers: [{ name: 'idp', kind: 'oidc', issuer: idp.url }] });
});
afterAll(async () => {
  await broker.close();
  await Promise.all([issuer.close(), idp.close(), evil.close()]);
});

const exchange = async (token: string) => outcome(await broker.exchange(await token));
const signed = (overrides: Record<string, unknown>) => issuer.sign(issuer.githubClaims(overrides));
/** IdP tokens: its header allowlist is alg, kid, typ (no x5t). */
const idpSigned = (overrides: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  idp.sign(idp.githubClaims({ sub: IDP_SUBJECT, ...overrides }), { header: { x5t: undefined, ...header } });
/** Claims issued `iatOffset` seconds from now (nbf as GitHub sets it) living `lifetime` seconds. */
const timed = (iatOffset: number, lifetime = 300) => {
  const iat = NOW_SEC + iatOffset;
  return { iat, nbf: iat - 600, exp: iat + lifetime };
};

it('the broker runs the §B.0 baseline these boundaries are computed from', () => {
  expect(broker.config.issuers.find((i) => i.name === 'actions')).toMatchObject({ clockToleranceSec: TOLERANCE, maxTokenAgeSec: MAX_AGE, maxLifetimeSec: MAX_LIFETIME });
});

describe('B-33 wrong iss', () => {
  it.each([
    ['another issuer, validly signed by it', () => evil.sign(evil.githubClaims())],
    ['https://evil.example, signed by an attacker key', () => issuer.sign(issuer.githubClaims({ iss: 'https://evil.example' }), { key: 'attacker-rsa' })],
    ['the trusted issuer with a trailing slash', () => signed({ iss: `${issuer.url}/` })],
    ['the trusted issuer as a one-element array', () => signed({ iss: [issuer.url] })],
    ['a number', () => signed({ iss: 1 })],
  ])('%s → 401 issuer_not_trusted, no request to any issuer', async (_case, build) => {
    const token = await build();
    const before = [issuer.requests.length, idp.requests.length];
    expect(await exchange(token)).toEqual(refusal('invalid_token', 'issuer_not_trusted'));
    expect(evil.requests).toEqual([]);
    expect([issuer.requests.length, idp.requests.length]).toEqual(before);
  });
});

describe('B-35 missing iss', () => {
  it('→ 401 claim_missing', async () => {
    expect(await exchange(await signed({ iss: undefined }))).toEqual(refusal('invalid_token', 'claim_missing'));
  });
});

describe('B-36 / B-37 token minted for another audience → 401 audience_mismatch', () => {
  /** A token from the issuer's runner endpoint, as actions/core getIDToken() fetches it. */
  const runnerToken = async (audience?: string) => {
    const url = audience === undefined ? issuer.requestUrl : `${issuer.requestUrl}&audience=${encodeURIComponent(audience)}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${issuer.requestToken}` } });
    return ((await res.json()) as { value: string }).value;
  };

  it('B-36 requested without audience (GitHub defaults aud to the owner URL)', async () => {
    expect(await exchange(await runnerToken())).toEqual(refusal('invalid_token', 'audience_mismatch'));
  });

  it('control: requested with the skillgate audience it is accepted', async () => {
    expect(await exchange(await runnerToken(TEST_AUDIENCE))).toEqual(accepted);
  });

  it.each([['sts.amazonaws.com'], ['api://AzureADTokenExchange'], ['https://api.anthropic.com'], [`${TEST_AUDIENCE}/`], [TEST_AUDIENCE.toUpperCase()]])(
    'B-37 aud %s',
    async (aud) => {
      expect(await exchange(await signed({ aud }))).toEqual(refusal('invalid_token', 'audience_mismatch'));
    },
  );
});

describe('B-38 / B-39 / B-40 aud missing, empty, arrays, wrong type', () => {
  it.each([
    ['B-38 aud missing', undefined, refusal('invalid_token', 'claim_missing')],
    ['B-38 aud ""', '', refusal('invalid_token', 'audience_mismatch')],
    ['B-38 aud []', [], refusal('invalid_token', 'audience_mismatch')],
    // GitHub tokens carry exactly one audience, so the broker refuses any array from GitHub.
    ['B-39 aud [skillgate, other]', [TEST_AUDIENCE, 'other'], refusal('invalid_token', 'audience_mismatch')],
    ['B-39 aud [skillgate]', [TEST_AUDIENCE], refusal('invalid_token', 'audience_mismatch')],
    ['B-40 aud 123', 123, refusal('invalid_token', 'audience_mismatch')],
    ['B-40 aud {"x":1}', { x: 1 }, refusal('invalid_token', 'audience_mismatch')],
    ['B-40 aud [skillgate, 1]', [TEST_AUDIENCE, 1], refusal('invalid_token', 'audience_mismatch')],
  ])('GitHub: %s', async (_case, aud, expected) => {
    expect(await exchange(await signed({ aud }))).toEqual(expected);
  });

  // OIDC Core §3.1.3.7: with several audiences, azp must name us.
  it.each([
    ['aud [skillgate, other] without azp', { aud: [TEST_AUDIENCE, 'other'] }, refusal('invalid_token', 'audience_mismatch')],
    ['aud [skillgate, other], azp other', { aud: [TEST_AUDIENCE, 'other'], azp: 'other' }, refusal('invalid_token', 'audience_mismatch')],
    ['aud [skillgate, other], azp skillgate', { aud: [TEST_AUDIENCE, 'other'], azp: TEST_AUDIENCE }, accepted],
    ['aud [skillgate]', { aud: [TEST_AUDIENCE] }, accepted],
  ])('IdP: B-39 %s', async (_case, overrides, expected) => {
    expect(await exchange(await idpSigned(overrides))).toEqual(expected);
  });
});

describe('B-41 … B-46 time claims (tolerance 60 s, max age 10 min, max lifetime 1 h)', () => {
  it.each([
    ['B-41 exp missing', { exp: undefined }, refusal('invalid_token', 'claim_missing')],
    ['B-41 iat missing', { iat: undefined }, refusal('invalid_token', 'claim_missing')],
    ['B-41 nbf missing', { nbf: undefined }, refusal('invalid_token', 'claim_missing')],
    ['B-42 exp = now − 61 s', { ...timed(-200), exp: NOW_SEC - (TOLERANCE + 1) }, refusal('invalid_token', 'expired')],
    ['B-42 exp = now − 59 s', { ...timed(-200), exp: NOW_SEC - (TOLERANCE - 1) }, accepted],
    ['B-43 nbf = now + 61 s', { ...timed(0), nbf: NOW_SEC + TOLERANCE + 1 }, refusal('invalid_token', 'not_yet_valid')],
    ['B-43 nbf = now + 59 s', { ...timed(0), nbf: NOW_SEC + TOLERANCE - 1 }, accepted],
    ['B-44 iat = now + 120 s', timed(120), refusal('invalid_token', 'issued_in_future')],
    ['B-44 iat = now + 61 s', timed(TOLERANCE + 1), refusal('invalid_token', 'issued_in_future')],
    ['B-44 iat = now + 59 s', timed(TOLERANCE - 1), accepted],
    // The table says iat = now − 11 min; with the 60 s tolerance applied to the age as to exp, that
    // is exactly on the boundary (jose refuses age − tolerance > max age), so we test either side.
    ['B-45 iat = now − (10 min + 61 s), exp in the future', timed(-(MAX_AGE + TOLERANCE + 1), 900), refusal('invalid_token', 'too_old')],
    ['B-45 iat = now − (10 min + 59 s), exp in the future', timed(-(MAX_AGE + TOLERANCE - 1), 900), accepted],
    ['B-46 exp − iat = 30 days', timed(0, 30 * 86_400), refusal('invalid_token', 'lifetime_too_long')],
    ['B-46 exp − iat = 1 h + 1 s', timed(0, MAX_LIFETIME + 1), refusal('invalid_token', 'lifetime_too_long')],
    ['B-46 exp − iat = 1 h', timed(0, MAX_LIFETIME), accepted],
    ['exp as a string', { ...timed(0), exp: String(NOW_SEC + 300) }, refusal('invalid_token', 'claim_invalid')],
    ['exp with a fraction', { ...timed(0), exp: NOW_SEC + 300.5 }, refusal('invalid_token', 'claim_invalid')],
  ])('%s', async (_case, overrides, expected) => {
    expect(await exchange(await signed(overrides))).toEqual(expected);
  });
});

describe('B-48 sub missing, empty or odd', () => {
  const legacy = 'repo:octo-org/octo-repo:environment:prod';
  it.each([
    ['missing', undefined, refusal('invalid_token', 'claim_missing')],
    ['""', '', refusal('invalid_token', 'claim_invalid')],
    ['with \\n', `${legacy}\nrepo:evil/evil:ref:refs/heads/main`, refusal('invalid_token', 'claim_invalid')],
    ['with \\u0000', `${legacy}\u0000`, refusal('invalid_token', 'claim_invalid')],
    ['with "', `${legacy}"`, refusal('invalid_token', 'claim_invalid')],
    // The table says 256+ characters; the broker's cap is 512, because GitHub's customised subjects
    // (include_claim_keys with job_workflow_ref…) legitimately run past 256.
    ['of 513 characters', `${legacy}:${'x'.repeat(512 - legacy.length)}`, refusal('invalid_token', 'claim_invalid')],
    ['a number', 123, refusal('invalid_token', 'claim_invalid')],
    ['naming another repository id than repository_id', 'repo:octo-org@65/octo-repo@75:environment:prod', refusal('invalid_token', 'claim_invalid')],
    ['legacy form (control)', legacy, accepted],
  ])('sub %s', async (_case, sub, expected) => {
    expect(await exchange(await signed({ sub }))).toEqual(expected);
  });
});

describe('B-49 jti missing or unusable', () => {
  it.each([
    ['missing', undefined, refusal('invalid_token', 'claim_missing')],
    ['""', '', refusal('invalid_token', 'claim_invalid')],
    ['a number', 7, refusal('invalid_token', 'claim_invalid')],
  ])('jti %s', async (_case, jti, expected) => {
    expect(await exchange(await signed({ jti }))).toEqual(expected);
  });
});

describe('B-50 claims of the wrong type used by policy', () => {
  // With the immutable sub (which repeats the ids as text) a numeric repository_id already fails
  // the sub/id consistency check; the legacy sub lets the token reach the policy engine.
  const legacy = { sub: 'repo:octo-org/octo-repo:environment:prod' };
  it.each([
    ['all strings (control)', {}, accepted],
    ['repository_id 74 (number)', { repository_id: 74 }, refusal('policy_denied', 'identity_mismatch')],
    ['repository_owner_id 65 (number)', { repository_owner_id: 65 }, refusal('policy_denied', 'identity_mismatch')],
    ['ref ["refs/heads/main"]', { ref: ['refs/heads/main'] }, refusal('policy_denied', 'ref_not_allowed')],
    // Booleans compare as "true"/"false" (documented); "true" is not the pinned environment.
    ['environment true', { environment: true }, refusal('policy_denied', 'no_matching_policy')],
    ['environment {"name":"prod"}', { environment: { name: 'prod' } }, refusal('policy_denied', 'no_matching_policy')],
  ])('legacy sub, %s', async (_case, overrides, expected) => {
    expect(await exchange(await signed({ ...legacy, ...overrides }))).toEqual(expected);
  });

  it('immutable sub, repository_id 74 (number) → 401 claim_invalid', async () => {
    expect(await exchange(await signed({ repository_id: 74, sub: 'repo:octo-org@65/octo-repo@74:environment:prod' }))).toEqual(refusal('invalid_token', 'claim_invalid'));
  });
});

describe('B-51 nested JWT', () => {
  it('cty: "JWT" → 401 unsupported_header (cty is not in the header allowlist)', async () => {
    const inner = await signed({});
    expect(await exchange(await issuer.sign({ ...issuer.githubClaims(), inner }, { header: { cty: 'JWT' } }))).toEqual(refusal('invalid_token', 'unsupported_header'));
  });

  it('a compact JWT as the payload bytes → 401 malformed', async () => {
    const inner = await signed({});
    expect(await exchange(await issuer.signRaw({ alg: 'RS256', typ: 'JWT', kid: issuer.kid, cty: 'JWT' }, inner))).toEqual(refusal('invalid_token', 'malformed'));
  });

  it('a JWE (five parts) whose plaintext would be a JWT → 401 malformed', async () => {
    const jwe = [base64url(JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' })), 'a2V5', 'aXY', 'Y2lwaGVy', 'dGFn'].join('.');
    expect(await exchange(jwe)).toEqual(refusal('invalid_token', 'malformed'));
  });
});

describe('B-52 access token instead of ID token (IdP)', () => {
  // The table allows audience_mismatch or claim_invalid (typ): the at+jwt type is refused in the
  // header check, before any key fetch, so it decides whenever present; the audience otherwise.
  it.each([
    ['typ JWT, aud = the API', { aud: 'https://api.idp.example' }, { typ: 'JWT' }, refusal('invalid_token', 'audience_mismatch')],
    ['typ at+jwt, aud = the API', { aud: 'https://api.idp.example' }, { typ: 'at+jwt' }, refusal('invalid_token', 'claim_invalid')],
    ['typ at+jwt, aud = skillgate', {}, { typ: 'at+jwt' }, refusal('invalid_token', 'claim_invalid')],
    ['typ application/at+jwt, aud = skillgate', {}, { typ: 'application/at+jwt' }, refusal('invalid_token', 'claim_invalid')],
    ['typ JWT (control)', {}, { typ: 'JWT' }, accepted],
    ['no typ (control: IdPs differ)', {}, { typ: undefined }, accepted],
  ])('%s', async (_case, overrides, header, expected) => {
    expect(await exchange(await idpSigned(overrides, header))).toEqual(expected);
  });
});
