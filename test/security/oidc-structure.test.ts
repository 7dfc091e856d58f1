// Bad-input corpus B.1 (reference/security.md): structure, encoding and size of the ID token and
// of the exchange request, against the real broker over real HTTP. Refusals that must happen
// before any network I/O are sent to a broker that has never fetched the issuer's keys: if a case
// reached jose, the issuer would see a discovery request.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../broker/json/strict-json.ts';
import { ID_TOKEN_TYPE, startBroker, TOKEN_EXCHANGE, type TestBroker } from '../helpers/broker.ts';
import { base64url, startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

// The result vocabulary of §B.0: the family fixes the status.
const STATUS = { invalid_request: 400, invalid_token: 401 } as const;
type Family = keyof typeof STATUS;
const refusal = (error: Family, reason: string, status: number = STATUS[error]) => ({ status, error, reason });

interface Answer {
  status: number;
  body: Record<string, unknown>;
}
const outcome = ({ status, body }: Answer) => ({ status, error: body['error'], reason: body['reason'] });

let issuer: OidcIssuer;
/** Never sees a token that reaches jose, so it never fetches keys: any issuer request is a failure. */
let cold: TestBroker;
/** For cases that need a verified signature. */
let warm: TestBroker;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  [cold, warm] = await Promise.all([startBroker({ issuerUrl: issuer.url }), startBroker({ issuerUrl: issuer.url })]);
});
afterAll(async () => {
  await Promise.all([cold.close(), warm.close()]);
  await issuer.close();
});

/** Sends the token to the cold broker and checks that no request reached the issuer meanwhile. */
async function refuseBeforeIo(token: string): Promise<Answer> {
  const before = issuer.requests.length;
  const answer = await cold.exchange(token);
  expect(issuer.requests.slice(before), 'the broker contacted the issuer for a token it should refuse first').toEqual([]);
  return answer;
}

const header = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid: issuer.kid, ...extra });
const validToken = () => issuer.sign(issuer.githubClaims());
/** Signs the claims with `insert` spliced in right after the opening brace (exact bytes). */
const signWithRawMembers = (insert: string, overrides: Record<string, unknown> = {}) =>
  issuer.signRaw(header(), `{${insert},${JSON.stringify(issuer.githubClaims(overrides)).slice(1)}`);

function post(path: string, init: { body: string; contentType?: string; headers?: Record<string, string> }): Promise<Answer> {
  return fetch(`${cold.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json', ...init.headers },
    body: init.body,
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
}
/**
 * POST /v1/token with node:http, for what fetch cannot send: repeated header lines, or a declared
 * Content-Length of which only the first chunk is sent (the answer must not wait for the rest).
 */
function rawPost(headers: Record<string, string | string[]>, body: string, declaredLength?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${cold.url}/v1/token`, { method: 'POST', headers: { ...headers, 'content-length': declaredLength ?? Buffer.byteLength(body) } });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
      });
    });
    if (declaredLength === undefined) req.end(body);
    else req.write(body);
  });
}
const exchangeBody = (fields: Record<string, unknown>) =>
  JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token_type: ID_TOKEN_TYPE, ...fields });

describe('B-01 no token', () => {
  it.each([
    ['subject_token omitted (JSON)', exchangeBody({}), 'application/json'],
    ['subject_token "" (JSON)', exchangeBody({ subject_token: '' }), 'application/json'],
    ['subject_token "" (form)', new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token_type: ID_TOKEN_TYPE, subject_token: '' }).toString(), 'application/x-www-form-urlencoded'],
  ])('%s → 400 invalid_parameter, no issuer request', async (_case, body, contentType) => {
    const before = issuer.requests.length;
    // The table allows 400 invalid_request or 401 malformed: the body schema (minLength 1, required)
    // answers first, so it is 400.
    expect(outcome(await post('/v1/token', { body, contentType }))).toEqual(refusal('invalid_request', 'invalid_parameter'));
    expect(issuer.requests.slice(before)).toEqual([]);
  });
});

describe('B-02 two credentials', () => {
  it('Authorization header + body token → 400 duplicate_credentials', async () => {
    const token = await validToken();
    const res = await post('/v1/token', { body: exchangeBody({ subject_token: token }), headers: { authorization: `Bearer ${token}` } });
    expect(outcome(res)).toEqual(refusal('invalid_request', 'duplicate_credentials'));
  });

  it('two Authorization header lines + body token → 400 duplicate_credentials', async () => {
    const token = await validToken();
    // fetch folds repeated headers into one; node:http sends an array as separate lines.
    const res = await rawPost({ 'content-type': 'application/json', authorization: [`Bearer ${token}`, `Bearer ${token}`] }, exchangeBody({ subject_token: token }));
    expect(outcome(res)).toEqual(refusal('invalid_request', 'duplicate_credentials'));
  });

  // A lenient parser keeps the last of two members, so the exchange would go ahead with the second token.
  it('subject_token twice in a JSON body → 400 duplicate_key', async () => {
    const first = await validToken();
    const second = await validToken();
    const body = `{"grant_type":"${TOKEN_EXCHANGE}","subject_token_type":"${ID_TOKEN_TYPE}","subject_token":"${first}","subject_token":"${second}"}`;
    const res = await post('/v1/token', { body });
    expect(outcome(res)).toEqual(refusal('invalid_request', 'duplicate_key'));
    expect(JSON.stringify(res.body)).not.toContain(second);
  });

  it('subject_token twice in a form body → 400 invalid_parameter', async () => {
    const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token_type: ID_TOKEN_TYPE });
    form.append('subject_token', await validToken());
    form.append('subject_token', await validToken());
    const res = await post('/v1/token', { body: form.toString(), contentType: 'application/x-www-form-urlencoded' });
    expect(outcome(res)).toEqual(refusal('invalid_request', 'invalid_parameter'));
  });
});

describe('B-03 token in the URL', () => {
  it('?jwt=… → 400 parameters_in_url; the token is not logged and not spent', async () => {
    const token = await validToken();
    const res = await fetch(`${warm.url}/v1/token?jwt=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: exchangeBody({ subject_token: token }) });
    expect(outcome({ status: res.status, body: (await res.json()) as Record<string, unknown> })).toEqual(refusal('invalid_request', 'parameters_in_url'));
    const logs = warm.logs.join('\n');
    expect(logs).toContain(res.headers.get('request-id')); // the refusal was logged…
    expect(logs).not.toContain(token); // …without the token
    expect(logs).not.toContain(token.split('.')[2]);
    // Refused before verification: the same token still exchanges once.
    expect((await warm.exchange(token)).status).toBe(200);
  });
});

describe('B-04 wrong segment count → 401 malformed', () => {
  const jwe = () => [base64url(JSON.stringify({ alg: 'RSA-OAEP', enc: 'A256GCM' })), 'ZW5jcnlwdGVkLWtleQ', 'aXYtaXYtaXY', 'Y2lwaGVydGV4dA', 'dGFnLXRhZw'].join('.');
  it.each([
    ['a.b (header.payload)', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['a.b.c.d', (t: string) => `${t}.${t.split('.')[2]}`],
    ['5-segment JWE', () => jwe()],
    ['trailing "." after the signature', (t: string) => `${t}.`],
    ['leading "."', (t: string) => `.${t}`],
  ])('%s', async (_case, mangle) => {
    expect(outcome(await refuseBeforeIo(mangle(await validToken())))).toEqual(refusal('invalid_token', 'malformed'));
  });
});

describe('B-05 characters outside base64url → 401 malformed', () => {
  const inserts = ['+', '/', '=', ' ', '%2E', '\r\n', '\u0000'];
  const cases = inserts.flatMap((insert) => (['header', 'payload', 'signature'] as const).map((segment, index) => [JSON.stringify(insert), segment, insert, index] as const));
  it.each(cases)('%s in the %s', async (_label, _segment, insert, index) => {
    const parts = (await validToken()).split('.');
    const part = parts[index]!;
    parts[index] = part.slice(0, 8) + insert + part.slice(8);
    expect(outcome(await refuseBeforeIo(parts.join('.')))).toEqual(refusal('invalid_token', 'malformed'));
  });
});

describe('B-06 non-canonical base64url signature', () => {
  it('a variant differing only in unused low bits verifies, and replay is keyed on (iss, jti), not on the string', async () => {
    const token = await validToken();
    const sig = token.split('.')[2]!;
    // RS256 signatures are 256 bytes: 342 base64url chars, the last carrying 2 bits and 4 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    const variant = `${token.slice(0, -1)}${alphabet[last ^ 0b0001]!}`;
    expect(variant).not.toBe(token);
    expect(Buffer.from(variant.split('.')[2]!, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    // The table allows bad_signature or success for the variant; jose's decoder ignores the unused
    // bits, so it verifies. What matters is that the original is then a replay.
    expect((await warm.exchange(variant)).status).toBe(200);
    expect(outcome(await warm.exchange(token))).toEqual(refusal('invalid_token', 'replayed'));
  });
});

describe('B-07 header not a JSON object → 401 malformed', () => {
  it.each([['"x"'], ['[]'], ['{'], ['null'], ['1']])('header %s', async (raw) => {
    const token = await issuer.signRaw(raw, JSON.stringify(issuer.githubClaims()), { alg: 'RS256' });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'malformed'));
  });
});

describe('B-08 payload not a JSON object → 401 malformed', () => {
  it.each([['0'], ['true'], ['null'], ['[]'], ['""'], ['{'], ['{"iss":1']])('payload %s', async (raw) => {
    expect(outcome(await refuseBeforeIo(await issuer.signRaw(header(), raw)))).toEqual(refusal('invalid_token', 'malformed'));
  });
});

describe('B-09 invalid UTF-8 and lone surrogates', () => {
  it.each([
    ['overlong "/" (C0 AF) in sub', [0xc0, 0xaf]],
    ['lone continuation byte (80)', [0x80]],
    ['truncated sequence (E2 82)', [0xe2, 0x82]],
  ])('%s → 401 malformed, before any I/O', async (_case, bytes) => {
    const [before, after] = JSON.stringify(issuer.githubClaims({ sub: 'a\u0001b' })).split('\\u0001') as [string, string];
    const payload = Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
    expect(outcome(await refuseBeforeIo(await issuer.signRaw(header(), payload)))).toEqual(refusal('invalid_token', 'malformed'));
  });

  // A \ud800 escape is valid JSON, so the token is signed and verified; the claim check refuses it.
  it.each([['sub'], ['actor'], ['workflow_ref']])('lone \\ud800 escape in %s → 401 claim_invalid', async (claim) => {
    const json = JSON.stringify(issuer.githubClaims({ [claim]: 'a\u0001b' })).replace('\\u0001', '\\ud800');
    expect(outcome(await warm.exchange(await issuer.signRaw(header(), json)))).toEqual(refusal('invalid_token', 'claim_invalid'));
  });
});

// Not rows of the table (B-10 and B-11 are unused), but §B.0 and the harness recipe name them:
// duplicate members (jose alone would keep the last one) and numbers JSON.parse turns into Infinity.
describe('duplicate members and non-finite numbers', () => {
  it.each([
    ['duplicate sub in the payload', () => signWithRawMembers('"sub":"repo:evil/evil:ref:refs/heads/main"')],
    ['duplicate repository_id in the payload', () => signWithRawMembers('"repository_id":"1"')],
    ['duplicate alg in the header', () => issuer.signRaw(`{"alg":"none",${JSON.stringify(header()).slice(1)}`, JSON.stringify(issuer.githubClaims()), { alg: 'RS256' })],
    ['duplicate key in a nested object', () => signWithRawMembers('"extra":{"a":1,"a":2}')],
  ])('%s → 401 duplicate_member, before any I/O', async (_case, build) => {
    expect(outcome(await refuseBeforeIo(await build()))).toEqual(refusal('invalid_token', 'duplicate_member'));
  });

  it('a key repeated in sibling objects is not a duplicate', async () => {
    expect((await warm.exchange(await signWithRawMembers('"extra":[{"a":1},{"a":2}]'))).status).toBe(200);
  });

  it.each([['exp'], ['iat'], ['nbf']])('%s: 1e400 (Infinity) → 401', async (claim) => {
    const json = JSON.stringify(issuer.githubClaims({ [claim]: 424242 })).replace('424242', '1e400');
    // jose compares first: an infinite iat is in the future, an infinite nbf not yet reached. An
    // infinite exp passes jose's date checks, so the broker's whole-seconds check must catch it.
    const expected = { exp: 'claim_invalid', iat: 'issued_in_future', nbf: 'not_yet_valid' }[claim as 'exp'];
    expect(expected).toBeDefined();
    expect(outcome(await warm.exchange(await issuer.signRaw(header(), json)))).toEqual(refusal('invalid_token', expected));
  });
});

describe('B-12 prototype keys → 401 malformed', () => {
  it.each([
    ['__proto__ in the payload', () => signWithRawMembers('"__proto__":{"admin":true}')],
    ['constructor.prototype in the payload', () => signWithRawMembers('"constructor":{"prototype":{}}')],
    ['escaped \\u005f_proto__ in the payload', () => signWithRawMembers('"\\u005f_proto__":{"admin":true}')],
    ['__proto__ nested in a claim', () => signWithRawMembers('"extra":{"__proto__":{"admin":true}}')],
    ['__proto__ in the header', () => issuer.signRaw(`{"__proto__":{},${JSON.stringify(header()).slice(1)}`, JSON.stringify(issuer.githubClaims()), { alg: 'RS256' })],
  ])('%s', async (_case, build) => {
    expect(outcome(await refuseBeforeIo(await build()))).toEqual(refusal('invalid_token', 'malformed'));
  });
});

describe('B-13 oversized token', () => {
  const KiB = 1024;
  /** §B.0: tokens up to 16 KiB are verified, longer ones refused before jose. */
  const LIMIT = 16 * KiB;
  /** The longest validly signed token of at most `bytes` characters (within 4), padded by a custom claim. */
  async function tokenOfSize(bytes: number): Promise<string> {
    const bare = (await validToken()).length;
    for (let pad = Math.floor(((bytes - bare) * 3) / 4); pad > 0; pad--) {
      const token = await issuer.sign(issuer.githubClaims({ padding: 'x'.repeat(pad) }));
      if (token.length <= bytes) {
        expect(token.length).toBeGreaterThan(bytes - 4);
        return token;
      }
    }
    throw new Error(`cannot build a token of ${bytes} bytes`);
  }

  it('a token of 16 KiB (the limit) is verified and exchanged', async () => {
    expect((await warm.exchange(await tokenOfSize(LIMIT))).status).toBe(200);
  });

  it.each([
    ['just over 16 KiB', LIMIT + 4],
    ['17 KiB', 17 * KiB],
  ])('%s in the JSON body → 401 token_too_large, before any I/O', async (_case, bytes) => {
    const token = await tokenOfSize(bytes);
    expect(token.length).toBeGreaterThan(LIMIT);
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'token_too_large'));
  });

  it('1 MiB body → 413 body_too_large', async () => {
    const res = await post('/v1/token', { body: exchangeBody({ subject_token: 'a'.repeat(1024 * KiB) }) });
    expect(outcome(res)).toEqual(refusal('invalid_request', 'body_too_large', 413));
  });

  it('100 MiB declared body → 413 body_too_large without reading it', async () => {
    // Only the first 64 KiB are sent: the broker must answer from the declared length.
    const start = exchangeBody({ subject_token: 'a'.repeat(64 * KiB) }).slice(0, 64 * KiB);
    const res = await rawPost({ 'content-type': 'application/json' }, start, 100 * 1024 * KiB);
    expect(outcome(res)).toEqual(refusal('invalid_request', 'body_too_large', 413));
  });

  it('17 KiB token in an Authorization header → 431 from the HTTP server', async () => {
    const token = await tokenOfSize(17 * KiB);
    const res = await fetch(`${cold.url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: exchangeBody({ subject_token: 'x' }) });
    expect(res.status).toBe(431);
  });
});

describe('B-14 deep nesting and huge arrays are stopped by the size and depth caps', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  it.each([
    ['100 000-deep array claim', () => signWithRawMembers(`"deep":${nested(100_000)}`), refusal('invalid_request', 'body_too_large', 413)],
    ['aud with 100 000 strings', () => issuer.sign(issuer.githubClaims({ aud: Array.from({ length: 100_000 }, (_, i) => `https://rp${i}.example`) })), refusal('invalid_request', 'body_too_large', 413)],
    ['10 000-deep array claim (fits the body, not the token cap)', () => signWithRawMembers(`"deep":${nested(10_000)}`), refusal('invalid_token', 'token_too_large')],
    ['1 000 audiences (fits the body, not the token cap)', () => issuer.sign(issuer.githubClaims({ aud: Array.from({ length: 1000 }, (_, i) => `https://rp${i}.example`) })), refusal('invalid_token', 'token_too_large')],
  ])('%s', async (_case, build, expected) => {
    const token = await build();
    const before = issuer.requests.length;
    expect(outcome(await cold.exchange(token))).toEqual(expected);
    expect(issuer.requests.slice(before)).toEqual([]);
  });

  // Under the size cap nesting is bounded by the strict parser: a 5 000-deep claim used to pass
  // verification and then fail to serialise into the audit event, answering a false 503.
  it.each([
    [`${MAX_JSON_DEPTH + 1} levels (one past the parser's limit)`, MAX_JSON_DEPTH],
    ['5 000 levels', 5000],
  ])('%s → 401 malformed, before any I/O', async (_case, depth) => {
    // The claims object itself is the first level.
    expect(outcome(await refuseBeforeIo(await signWithRawMembers(`"deep":${nested(depth)}`)))).toEqual(refusal('invalid_token', 'malformed'));
  });

  it(`${MAX_JSON_DEPTH} levels are accepted`, async () => {
    expect((await warm.exchange(await signWithRawMembers(`"deep":${nested(MAX_JSON_DEPTH - 1)}`))).status).toBe(200);
  });
});

describe('B-16 unencoded payload', () => {
  it('{"b64":false,"crit":["b64"]} → 401 unsupported_header, before any I/O', async () => {
    const token = await issuer.sign(issuer.githubClaims(), { header: { b64: false, crit: ['b64'] } });
    expect(outcome(await refuseBeforeIo(token))).toEqual(refusal('invalid_token', 'unsupported_header'));
  });
});
