// Self-test of the fake GitHub OIDC issuer: if these pass, a broker test that fails is failing on
// the broker, not on its fixture. Verification is always done by real jose over real HTTP.
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { compactVerify, createRemoteJWKSet, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import type { JWTVerifyOptions } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { base64url, githubSubject, startOidcIssuer } from './helpers/oidc-issuer.ts';
import type { IssuerOptions, OidcIssuer } from './helpers/oidc-issuer.ts';

const AUDIENCE = 'https://skillgate.test';

/** The baseline verifier of security.md §B.0, minus what is skillgate's own job. */
function githubVerifyOptions(issuer: OidcIssuer): JWTVerifyOptions {
  return { issuer: issuer.url, audience: AUDIENCE, algorithms: ['RS256'], typ: 'JWT', requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti'] };
}

async function freshIssuer(opts?: IssuerOptions): Promise<OidcIssuer> {
  const issuer = await startOidcIssuer(opts);
  onTestFinished(() => issuer.close());
  return issuer;
}

function pemOf(jwk: Record<string, unknown>): string {
  return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.close());

describe('discovery and JWKS', () => {
  it('serves a GitHub-shaped discovery document whose jwks_uri verifies its tokens', async () => {
    const doc = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ issuer: issuer.url, jwks_uri: issuer.jwksUri, id_token_signing_alg_values_supported: ['RS256'] });
    expect(doc.claims_supported).toEqual(expect.arrayContaining(['repository_id', 'job_workflow_ref', 'runner_environment']));

    const jwks = createRemoteJWKSet(new URL(String(doc.jwks_uri)));
    const token = await issuer.sign(issuer.githubClaims());
    const { payload, protectedHeader } = await jwtVerify(token, jwks, githubVerifyOptions(issuer));
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: issuer.kid, x5t: expect.stringMatching(/^[\w-]{27}$/) });
    expect(payload).toMatchObject({ sub: 'repo:octo-org@65/octo-repo@74:environment:prod', repository_id: '74', aud: AUDIENCE });
  });

  it('publishes only the current key, the way GitHub names it', async () => {
    const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: Record<string, unknown>[] };
    expect(keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: issuer.kid })]);
    expect(keys[0]).not.toHaveProperty('d');
    expect(issuer.kid).toMatch(/^[0-9A-F]{40}$/);
  });
});

describe('githubClaims', () => {
  it('issues the full claim set on the injected clock', async () => {
    const frozen = await freshIssuer({ now: () => 1_767_225_600_000, audience: 'https://skillgate.example.com' });
    const first = frozen.githubClaims();
    expect(first).toMatchObject({ iss: frozen.url, aud: 'https://skillgate.example.com', iat: 1_767_225_600, nbf: 1_767_225_000, exp: 1_767_225_900 });
    expect(Object.keys(first)).toHaveLength(34);
    expect(first.jti).not.toEqual(frozen.githubClaims().jti);
  });

  it.each([
    [{}, 'repo:octo-org@65/octo-repo@74:environment:prod'],
    [{ environment: undefined }, 'repo:octo-org@65/octo-repo@74:ref:refs/heads/main'],
    [{ environment: undefined, event_name: 'pull_request' }, 'repo:octo-org@65/octo-repo@74:pull_request'],
    [{ environment: undefined, ref: 'refs/tags/v1', ref_type: 'tag' }, 'repo:octo-org@65/octo-repo@74:ref:refs/tags/v1'],
    [{ environment: 'Production:V1' }, 'repo:octo-org@65/octo-repo@74:environment:Production%3AV1'],
    [{ repository_id: undefined }, 'repo:octo-org/octo-repo:environment:prod'],
    [{ sub: 'repository_owner_id:65' }, 'repository_owner_id:65'],
  ])('derives sub from the final claims: %j', (overrides, sub) => {
    expect(issuer.githubClaims(overrides).sub).toBe(sub);
  });

  it('deletes a claim overridden with undefined and offers the legacy sub form', () => {
    const claims = issuer.githubClaims({ jti: undefined });
    expect(claims).not.toHaveProperty('jti');
    expect(githubSubject(claims, 'legacy')).toBe('repo:octo-org/octo-repo:environment:prod');
  });
});

describe('signing', () => {
  it('merges header overrides and removes keys set to undefined', async () => {
    const token = await issuer.sign(issuer.githubClaims(), { header: { kid: undefined, typ: 'at+jwt', jku: `${issuer.url}/evil` } });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'at+jwt', x5t: expect.any(String), jku: `${issuer.url}/evil` });
  });

  it.each([
    ['attacker-ec', 'ES256'],
    ['attacker-rsa', 'PS256'],
    ['attacker-rsa', 'RS512'],
    ['attacker-ed', 'EdDSA'],
  ])('signs with %s under %s, which the RS256-pinned JWKS refuses', async (key, alg) => {
    const token = await issuer.sign(issuer.githubClaims(), { key, alg });
    const { alg: _published, ...jwk } = issuer.publicJwk(key);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg, kid: jwk.kid });
    await expect(jwtVerify(token, await importJWK(jwk, alg), { algorithms: [alg] })).resolves.toBeTruthy();
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), githubVerifyOptions(issuer))).rejects.toMatchObject({
      code: 'ERR_JOSE_ALG_NOT_ALLOWED',
    });
  });

  it('lets header.alg lie about the algorithm actually used', async () => {
    const token = await issuer.sign(issuer.githubClaims(), { key: 'attacker-ec', alg: 'ES256', header: { alg: 'RS256', kid: issuer.kid } });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: issuer.kid });
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), githubVerifyOptions(issuer))).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('HMACs the key-confusion token with the current public key PEM', async () => {
    const token = issuer.hs256WithPublicKey({}, issuer.githubClaims());
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: issuer.kid });
    const secret = new TextEncoder().encode(pemOf(issuer.publicJwk('current')));
    await expect(jwtVerify(token, secret, { algorithms: ['HS256'] })).resolves.toBeTruthy();
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)))).rejects.toMatchObject({ code: 'ERR_JOSE_NOT_SUPPORTED' });
  });
});

describe('raw builder', () => {
  const jwks = (): ReturnType<typeof createRemoteJWKSet> => createRemoteJWKSet(new URL(issuer.jwksUri));

  it('signs a duplicate-key payload verbatim, which jose parses last-wins', async () => {
    const json = JSON.stringify(issuer.githubClaims()).replace(/}$/, ',"sub":"repo:attacker/repo:ref:refs/heads/main"}');
    const token = await issuer.signRaw({ alg: 'RS256', typ: 'JWT', kid: issuer.kid }, json);
    expect(token.split('.')[1]).toBe(base64url(json));
    const { payload } = await jwtVerify(token, jwks(), githubVerifyOptions(issuer));
    expect(payload.sub).toBe('repo:attacker/repo:ref:refs/heads/main');
  });

  it('uses a header string verbatim and signs numbers JSON cannot round-trip', async () => {
    const header = `{"alg":"RS256","kid":"${issuer.kid}","alg":"RS256"}`;
    const payload = '{"exp":1e400}';
    const token = await issuer.signRaw(header, payload);
    expect(token.split('.').slice(0, 2)).toEqual([base64url(header), base64url(payload)]);
    const verified = await compactVerify(token, jwks());
    expect(new TextDecoder().decode(verified.payload)).toBe(payload);
  });

  it('signs invalid UTF-8 bytes, which jose rejects only after the signature checks out', async () => {
    const bytes = Buffer.concat([Buffer.from('{"sub":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('b"}')]);
    const token = await issuer.signRaw({ alg: 'RS256', kid: issuer.kid }, bytes);
    await expect(compactVerify(token, jwks())).resolves.toBeTruthy();
    await expect(jwtVerify(token, jwks())).rejects.toMatchObject({ code: 'ERR_JWT_INVALID' });
  });
});

describe('key rotation and published keys', () => {
  it('keeps the old kid verifiable and makes the new one verifiable; dropPrevious retires it', async () => {
    const rotating = await freshIssuer();
    // cooldownDuration 0: let jose refetch on every unknown kid, so this tests the issuer, not jose's timer.
    const jwks = createRemoteJWKSet(new URL(rotating.jwksUri), { cooldownDuration: 0 });
    const oldKid = rotating.kid;
    const oldToken = await rotating.sign(rotating.githubClaims());
    await jwtVerify(oldToken, jwks, githubVerifyOptions(rotating));

    const newKid = await rotating.rotate();
    expect(newKid).not.toBe(oldKid);
    expect(rotating.kid).toBe(newKid);
    const newToken = await rotating.sign(rotating.githubClaims());
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    await expect(jwtVerify(newToken, jwks, githubVerifyOptions(rotating))).resolves.toBeTruthy();
    await expect(jwtVerify(oldToken, jwks, githubVerifyOptions(rotating))).resolves.toBeTruthy();

    await rotating.rotate({ dropPrevious: true });
    const retired = await rotating.sign(rotating.githubClaims(), { key: 'previous' });
    expect(decodeProtectedHeader(retired).kid).toBe(newKid);
    // A warm jose cache keeps a retired key until cacheMaxAge; a fresh JWKS set sees it gone.
    const freshJwks = createRemoteJWKSet(new URL(rotating.jwksUri));
    await expect(jwtVerify(retired, freshJwks, githubVerifyOptions(rotating))).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('publishes the weak 1024-bit key on request, which jose refuses to verify with', async () => {
    const weak = await freshIssuer();
    weak.publishKey('weak-rsa');
    const { keys } = (await (await fetch(weak.jwksUri)).json()) as { keys: { kid: string; n: string }[] };
    const published = keys.find((key) => key.kid === weak.publicJwk('weak-rsa').kid);
    expect(Buffer.from(published?.n ?? '', 'base64url')).toHaveLength(128);
    const token = await weak.sign(weak.githubClaims(), { key: 'weak-rsa' });
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(weak.jwksUri)), githubVerifyOptions(weak))).rejects.toThrow(/2048 bits or larger/);
  });

  it('refuses unknown key names and signing with previous before any rotation', async () => {
    expect(() => issuer.publishKey('nope')).toThrow(/no signing key "nope"/);
    await expect(issuer.sign({}, { key: 'previous' })).rejects.toThrow(/no signing key "previous"/);
  });
});

describe('failure knobs', () => {
  it('serves a JWKS override verbatim until cleared', async () => {
    const broken = await freshIssuer();
    const withPrivateKey = JSON.stringify({ keys: [{ ...broken.publicJwk('current'), d: 'AQAB' }] });
    broken.setJwksOverride(withPrivateKey);
    expect(await (await fetch(broken.jwksUri)).text()).toBe(withPrivateKey);
    broken.setJwksOverride(null);
    expect(await (await fetch(broken.jwksUri)).json()).toEqual({ keys: [broken.publicJwk('current')] });
  });

  it('drops connections while down and records every request on its clock', async () => {
    const flaky = await freshIssuer({ now: () => 42 });
    flaky.setAvailability('down');
    await expect(fetch(flaky.jwksUri)).rejects.toThrow(TypeError);
    await expect(jwtVerify(await flaky.sign(flaky.githubClaims()), createRemoteJWKSet(new URL(flaky.jwksUri)))).rejects.toThrow();
    flaky.setAvailability('up');
    expect((await fetch(`${flaky.jwksUri}?probe=1`)).status).toBe(200);
    expect(flaky.requests).toEqual([
      { path: '/.well-known/jwks', at: 42 },
      { path: '/.well-known/jwks', at: 42 },
      { path: '/.well-known/jwks', at: 42 },
    ]);
  });

  it('answers late when slow, so jose times out', async () => {
    const slow = await freshIssuer();
    slow.setAvailability({ delayMs: 2_000 });
    const jwks = createRemoteJWKSet(new URL(slow.jwksUri), { timeoutDuration: 100 });
    await expect(jwtVerify(await slow.sign(slow.githubClaims()), jwks)).rejects.toMatchObject({ code: 'ERR_JWKS_TIMEOUT' });
    expect(slow.requests.map((r) => r.path)).toEqual(['/.well-known/jwks']);
  });
});

describe('runner ID-token endpoint', () => {
  const fetchIdToken = (url: string, authorization?: string): Promise<Response> =>
    fetch(url, authorization === undefined ? {} : { headers: { authorization } });

  it('issues a token for the requested audience from the runner claim template', async () => {
    issuer.setRunnerClaims({ environment: undefined, event_name: 'workflow_dispatch' });
    onTestFinished(() => issuer.setRunnerClaims({}));
    const res = await fetchIdToken(`${issuer.requestUrl}&audience=${encodeURIComponent(AUDIENCE)}`, `Bearer ${issuer.requestToken}`);
    expect(res.status).toBe(200);
    const { value } = (await res.json()) as { value: string };
    const { payload } = await jwtVerify(value, createRemoteJWKSet(new URL(issuer.jwksUri)), githubVerifyOptions(issuer));
    expect(payload).toMatchObject({ aud: AUDIENCE, event_name: 'workflow_dispatch', sub: 'repo:octo-org@65/octo-repo@74:ref:refs/heads/main' });
    expect(payload).not.toHaveProperty('environment');
  });

  it("defaults aud to the owner's GitHub URL like the real runner", async () => {
    const res = await fetchIdToken(issuer.requestUrl, `bearer ${issuer.requestToken}`);
    const { value } = (await res.json()) as { value: string };
    const { payload } = await jwtVerify(value, createRemoteJWKSet(new URL(issuer.jwksUri)), { audience: 'https://github.com/octo-org' });
    expect(payload.aud).toBe('https://github.com/octo-org');
  });

  it.each([
    ['missing', () => undefined],
    ['wrong', () => 'bearer not-the-token'],
    ['scheme-less', () => issuer.requestToken],
  ])('answers 401 to a %s request token', async (_case, authorization) => {
    expect((await fetchIdToken(issuer.requestUrl, authorization())).status).toBe(401);
  });
});
