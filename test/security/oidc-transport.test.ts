// Bad-input corpus B.7 (reference/security.md): the issuer's side failing — JWKS down, slow,
// huge or malformed, kid floods, key rotation, weak keys — against the real broker over real HTTP.
// jose's JWKS cache runs on the real Date.now(), so expiry and cooldown are shortened through the
// broker's fetch limits instead of freezing time; waits stay in the tens of milliseconds.
// B-97 (TLS to the JWKS: self-signed or wrong-host certificate) is not run: the test issuer speaks
// plain http on loopback, which the broker allows only for 127.0.0.1 / localhost.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FETCH_LIMITS, type IssuerFetchLimits } from '../../broker/exchange/issuer-keys.ts';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { JWKS_PATH, startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

// The result vocabulary of §B.0: the family fixes the status.
const STATUS = { invalid_token: 401, idp_unavailable: 503 } as const;
const refusal = (error: keyof typeof STATUS, reason: string) => ({ status: STATUS[error], error, reason });
const UNAVAILABLE = refusal('idp_unavailable', 'idp_unavailable');
const KEY_NOT_FOUND = refusal('invalid_token', 'key_not_found');

interface Answer {
  status: number;
  body: Record<string, unknown>;
}
const outcome = ({ status, body }: Answer) => ({ status, error: body['error'], reason: body['reason'] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Shared by the tests that only switch availability or the JWKS body; afterEach restores it. */
let issuer: OidcIssuer;
const started: TestBroker[] = [];
const issuers: OidcIssuer[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterEach(async () => {
  issuer.setAvailability('up');
  issuer.setJwksOverride(null);
  await Promise.all(started.splice(0).map((b) => b.close()));
  await Promise.all(issuers.splice(0).map((i) => i.close()));
});
afterAll(async () => {
  await issuer.close();
});

/** A broker with cold key caches for `of`. */
async function broker(fetchLimits: Partial<IssuerFetchLimits> = {}, of: OidcIssuer = issuer): Promise<TestBroker> {
  const b = await startBroker({ issuerUrl: of.url, fetchLimits });
  started.push(b);
  return b;
}
/** An issuer of its own, for tests that rotate or publish keys. */
async function ownIssuer(): Promise<OidcIssuer> {
  const i = await startOidcIssuer();
  issuers.push(i);
  return i;
}
const token = (of: OidcIssuer = issuer, opts: Parameters<OidcIssuer['sign']>[1] = {}) => of.sign(of.githubClaims(), opts);
const unknownKidToken = (of: OidcIssuer = issuer) => token(of, { key: 'attacker-rsa', header: { kid: randomBytes(20).toString('hex') } });
/** JWKS requests the issuer received since request number `since`. */
const jwksFetchesSince = (of: OidcIssuer, since: number) => of.requests.slice(since).filter((r) => r.path === JWKS_PATH).length;

describe('B-90 JWKS endpoint down, warm cache', () => {
  it('known kid keeps verifying while the cache is fresh', async () => {
    const b = await broker();
    expect((await b.exchange(await token())).status).toBe(200);
    issuer.setAvailability('down');
    expect((await b.exchange(await token())).status).toBe(200);
  });

  it('once the cache is stale → 503 idp_unavailable, never an unverified accept; back up → 200', async () => {
    const b = await broker({ cacheMaxAgeMs: 1 });
    expect((await b.exchange(await token())).status).toBe(200);
    issuer.setAvailability('down');
    await sleep(20);
    const since = issuer.requests.length;
    expect(outcome(await b.exchange(await token()))).toEqual(UNAVAILABLE);
    expect(jwksFetchesSince(issuer, since)).toBe(1); // it did try
    issuer.setAvailability('up');
    expect((await b.exchange(await token())).status).toBe(200);
  });
});

describe('B-91 JWKS down, cold start or unknown kid', () => {
  it('first token after boot with the issuer down → 503 idp_unavailable; the failure is not cached', async () => {
    const b = await broker();
    issuer.setAvailability('down');
    expect(outcome(await b.exchange(await token()))).toEqual(UNAVAILABLE);
    issuer.setAvailability('up');
    expect((await b.exchange(await token())).status).toBe(200);
  });

  it('unknown kid past the cooldown, issuer down → 503 idp_unavailable (the refetch failed)', async () => {
    const b = await broker({ cooldownMs: 1 });
    expect((await b.exchange(await token())).status).toBe(200);
    issuer.setAvailability('down');
    await sleep(20);
    expect(outcome(await b.exchange(await unknownKidToken()))).toEqual(UNAVAILABLE);
  });

  it('unknown kid within the cooldown → 401 key_not_found without asking the issuer', async () => {
    const b = await broker();
    expect((await b.exchange(await token())).status).toBe(200);
    issuer.setAvailability('down');
    const since = issuer.requests.length;
    expect(outcome(await b.exchange(await unknownKidToken()))).toEqual(KEY_NOT_FOUND);
    expect(issuer.requests.slice(since)).toEqual([]);
  });
});

describe('B-92 JWKS slow', () => {
  // The table's 10 s answer against a 5 s timeout, scaled down: 2 s against 300 ms.
  it('cold: discovery and keys slower than the timeout → 503 idp_unavailable', async () => {
    const b = await broker({ timeoutMs: 300 });
    issuer.setAvailability({ delayMs: 2000 });
    expect(outcome(await b.exchange(await token()))).toEqual(UNAVAILABLE);
  });

  it('warm, stale cache: a JWKS refetch slower than the timeout → 503 idp_unavailable', async () => {
    const b = await broker({ timeoutMs: 300, cacheMaxAgeMs: 1 });
    expect((await b.exchange(await token())).status).toBe(200);
    issuer.setAvailability({ delayMs: 2000 });
    await sleep(20);
    const since = issuer.requests.length;
    expect(outcome(await b.exchange(await token()))).toEqual(UNAVAILABLE);
    expect(jwksFetchesSince(issuer, since)).toBe(1);
  });

  it('control: slower than usual but within the timeout → 200', async () => {
    const b = await broker({ timeoutMs: 2000 });
    issuer.setAvailability({ delayMs: 100 });
    expect((await b.exchange(await token())).status).toBe(200);
  });
});

describe('B-93 JWKS huge or malformed → 503 idp_unavailable', () => {
  const realKey = () => issuer.publicJwk('current');
  /** A JWKS holding the real key, padded with an ignored member to `bytes` bytes in total. */
  const paddedJwks = (bytes: number) => {
    const bare = JSON.stringify({ keys: [realKey()], padding: '' });
    return JSON.stringify({ keys: [realKey()], padding: 'x'.repeat(bytes - bare.length) });
  };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it.each([
    // Each body still holds the real public key, so a broker that ignored the problem would accept.
    ['over the size cap (cap + 1 byte)', () => paddedJwks(DEFAULT_FETCH_LIMITS.maxBytes + 1)],
    ['1 MiB (the table’s 50 MB takes the same path: the declared length is refused unread)', () => paddedJwks(1024 * 1024)],
    ['a private RSA key (d) beside the real key', () => JSON.stringify({ keys: [realKey(), { ...privateKey.export({ format: 'jwk' }), kid: 'leaked', alg: 'RS256' }] })],
    ['a symmetric key (kty oct) beside the real key', () => JSON.stringify({ keys: [realKey(), { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: 'hmac' }] })],
    ['not JSON', () => `${JSON.stringify({ keys: [realKey()] })},`],
    ['keys not an array', () => JSON.stringify({ keys: realKey() })],
    ['no keys member', () => JSON.stringify({ jwks: [realKey()] })],
    ['a key that is not an object', () => JSON.stringify({ keys: [realKey(), 1] })],
  ])('%s', async (_case, body) => {
    issuer.setJwksOverride(body());
    const b = await broker();
    expect(outcome(await b.exchange(await token()))).toEqual(UNAVAILABLE);
  });

  it('control: a JWKS exactly at the size cap is used', async () => {
    issuer.setJwksOverride(paddedJwks(DEFAULT_FETCH_LIMITS.maxBytes));
    const b = await broker();
    expect((await b.exchange(await token())).status).toBe(200);
  });
});

describe('B-95 kid flood', () => {
  it('100 random kids at once on a cold broker → 1–2 JWKS fetches; a genuine token still verifies', async () => {
    const b = await broker();
    const since = issuer.requests.length;
    const tokens = await Promise.all(Array.from({ length: 100 }, () => unknownKidToken()));
    const answers = await Promise.all(tokens.map((t) => b.exchange(t)));
    expect(answers.map(outcome)).toEqual(answers.map(() => KEY_NOT_FOUND));
    const fetches = jwksFetchesSince(issuer, since);
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThanOrEqual(2);
    expect((await b.exchange(await token())).status).toBe(200);
    expect(jwksFetchesSince(issuer, since)).toBe(fetches);
  });

  it('100 random kids one after another on a warm broker → no refetch within the cooldown', async () => {
    const b = await broker();
    expect((await b.exchange(await token())).status).toBe(200);
    const since = issuer.requests.length;
    for (let i = 0; i < 100; i++) expect(outcome(await b.exchange(await unknownKidToken()))).toEqual(KEY_NOT_FOUND);
    expect(jwksFetchesSince(issuer, since)).toBeLessThanOrEqual(1);
  });

  it('control: without a cooldown every unknown kid is a JWKS fetch (what the cooldown prevents)', async () => {
    const b = await broker({ cooldownMs: 0 });
    expect((await b.exchange(await token())).status).toBe(200);
    const since = issuer.requests.length;
    for (let i = 0; i < 20; i++) await b.exchange(await unknownKidToken());
    expect(jwksFetchesSince(issuer, since)).toBe(20);
  });
});

describe('B-96 key rotation', () => {
  it('new kid verifies after one refetch; the previous key keeps working until it leaves the JWKS', async () => {
    const rotating = await ownIssuer();
    const cooldownMs = 100;
    const b = await broker({ cooldownMs }, rotating);
    expect((await b.exchange(await token(rotating))).status).toBe(200);
    const firstKeyToken = await token(rotating); // kept for after the first key is retired

    await rotating.rotate();
    await sleep(cooldownMs + 50);
    let since = rotating.requests.length;
    expect((await b.exchange(await token(rotating))).status).toBe(200);
    expect(jwksFetchesSince(rotating, since)).toBe(1);
    expect((await b.exchange(await token(rotating, { key: 'previous' }))).status).toBe(200);

    // A second rotation retires the first key: the JWKS now lists only the second and third.
    await rotating.rotate();
    await sleep(cooldownMs + 50);
    since = rotating.requests.length;
    expect((await b.exchange(await token(rotating))).status).toBe(200);
    expect(jwksFetchesSince(rotating, since)).toBe(1);
    expect(outcome(await b.exchange(firstKeyToken))).toEqual(KEY_NOT_FOUND);
  });
});

describe('B-98 weak key in the JWKS', () => {
  it('token signed with a published RSA-1024 key → 401 key_not_found; the strong key still works', async () => {
    const weak = await ownIssuer();
    weak.publishKey('weak-rsa');
    const b = await broker({}, weak);
    expect(outcome(await b.exchange(await token(weak, { key: 'weak-rsa' })))).toEqual(KEY_NOT_FOUND);
    expect((await b.exchange(await token(weak))).status).toBe(200);
  });
});
