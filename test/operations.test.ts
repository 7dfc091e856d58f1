// Operations endpoints over real HTTP: liveness, readiness (store and every issuer's keys), the
// OpenAPI document, operator-only token routes, the 404 envelope and request ids.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from './helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.ts';

const OPERATOR_ENV = 'SKILLGATE_TEST_OPERATOR_TOKEN';
const operatorToken = `op_${randomBytes(18).toString('base64url')}`;

let issuer: OidcIssuer;
/** Stands in for GitHub's built-in issuer, so readiness never depends on the internet. */
let github: OidcIssuer;
let broker: TestBroker;

beforeAll(async () => {
  process.env[OPERATOR_ENV] = operatorToken;
  [issuer, github] = await Promise.all([startOidcIssuer(), startOidcIssuer()]);
  broker = await startBroker({
    issuerUrl: issuer.url,
    extraIssuers: [{ name: 'github', issuer: github.url }],
    config: { operators: [{ name: 'ops', token: `env:${OPERATOR_ENV}` }] },
  });
});
afterAll(async () => {
  await broker.close();
  await Promise.all([issuer.close(), github.close()]);
  delete process.env[OPERATOR_ENV];
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${broker.url}${path}`, { headers });
const asOperator = { authorization: `Bearer ${operatorToken}` };

async function mintToken(): Promise<{ token: string; id: string }> {
  const { status, body } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
  expect(status).toBe(200);
  return { token: body['access_token'] as string, id: body['token_id'] as string };
}

describe('health and readiness', () => {
  it('/healthz answers 200', async () => {
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 once the store and every issuer are usable', async () => {
    const res = await get('/readyz');
    // The built-in github issuer is not a readiness condition here: no policy uses it.
    expect(await res.json()).toEqual({ ready: true, checks: { config: 'ok', store: 'ok', 'issuer:actions': 'ok' } });
    expect(res.status).toBe(200);
  });

  it('/readyz answers 503 naming the issuer that is down at start, and 200 once it is back', async () => {
    const flaky = await startOidcIssuer();
    flaky.setAvailability('down');
    const cold = await startBroker({ issuerUrl: flaky.url, extraIssuers: [{ name: 'github', issuer: github.url }] });
    try {
      const down = await fetch(`${cold.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ ready: false, checks: { config: 'ok', store: 'ok', 'issuer:actions': 'unavailable' } });

      flaky.setAvailability('up');
      const up = await fetch(`${cold.url}/readyz`);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ ready: true, checks: { 'issuer:actions': 'ok' } });
    } finally {
      await cold.close();
      await flaky.close();
    }
  });
});

describe('/openapi.json', () => {
  it('is an OpenAPI 3 document of the broker API', async () => {
    const res = await get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[]; properties: Record<string, unknown> } }> } }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/token', '/v1/token/revoke', '/v1/whoami', '/v1/tokens', '/v1/tokens/{id}/revoke']));
    const exchange = doc.paths['/v1/token']?.['post']?.requestBody?.content['application/json']?.schema;
    expect(exchange?.required).toEqual(['grant_type', 'subject_token', 'subject_token_type']);
    expect(Object.keys(exchange?.properties ?? {})).toEqual(expect.arrayContaining(['grant_type', 'subject_token', 'subject_token_type', 'scope', 'requested_ttl']));
    expect(exchange?.properties['grant_type']).toMatchObject({ enum: ['urn:ietf:params:oauth:grant-type:token-exchange'] });
  });
});

describe('operator routes', () => {
  it.each([
    ['no credential', {}],
    ['a wrong credential', { authorization: `Bearer ${operatorToken}x` }],
    ['the credential without the Bearer scheme', { authorization: operatorToken }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('GET /v1/tokens with %s → 401 operator_credential_required', async (_name, headers: Record<string, string>) => {
    const res = await get('/v1/tokens', headers);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', reason: 'operator_credential_required' });
  });

  it('a skillgate token is not an operator credential', async () => {
    const { token, id } = await mintToken();
    const list = await get('/v1/tokens', { authorization: `Bearer ${token}` });
    expect(list.status).toBe(401);
    const revoke = await fetch(`${broker.url}/v1/tokens/${id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(revoke.status).toBe(401);
    expect(await revoke.json()).toMatchObject({ reason: 'operator_credential_required' });
    expect((await get('/v1/whoami', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('lists tokens to an operator and revokes one by id', async () => {
    const { token, id } = await mintToken();
    const list = await get('/v1/tokens?active=true', asOperator);
    expect(list.status).toBe(200);
    const { data } = (await list.json()) as { data: Record<string, unknown>[] };
    expect(data).toContainEqual(expect.objectContaining({ id, policy: 'ci', state: 'active', identity: expect.objectContaining({ repository_id: '74' }) }));
    expect(JSON.stringify(data)).not.toContain(token);

    const revoke = await fetch(`${broker.url}/v1/tokens/${id}/revoke`, {
      method: 'POST',
      headers: { ...asOperator, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'offboarded' }),
    });
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toMatchObject({ id, state: 'revoked', revoked_reason: 'offboarded', revoked_by: 'operator:ops' });

    const me = await get('/v1/whoami', { authorization: `Bearer ${token}` });
    expect(me.status).toBe(401);
    expect(await me.json()).toMatchObject({ error: 'invalid_token', reason: 'token_revoked' });
    const active = (await (await get('/v1/tokens?active=true', asOperator)).json()) as { data: { id: string }[] };
    expect(active.data.map((t) => t.id)).not.toContain(id);
  });

  it('revokes without a body, as the README shows', async () => {
    const { id } = await mintToken();
    const res = await fetch(`${broker.url}/v1/tokens/${id}/revoke`, { method: 'POST', headers: asOperator });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, state: 'revoked', revoked_reason: 'revoked_by_operator' });
  });

  it.each([
    ['GET', '/v1/tokens?limit=many'],
    ['POST', '/v1/tokens/not-an-id/revoke'],
  ])('refuses %s %s without a credential before validating it', async (method, path) => {
    const res = await fetch(`${broker.url}${path}`, { method });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ reason: 'operator_credential_required' });
  });

  it('answers 404 for a well-formed id it never issued', async () => {
    const res = await fetch(`${broker.url}/v1/tokens/tok_0000000000000000/revoke`, { method: 'POST', headers: asOperator });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found', reason: 'token_not_found' });
  });

  it('never writes the operator credential into the logs', async () => {
    await get('/v1/tokens', asOperator);
    await get('/v1/tokens', { authorization: `Bearer ${operatorToken}x` });
    expect(broker.logs.length).toBeGreaterThan(0);
    expect(broker.logs.join('\n')).not.toContain(operatorToken);
  });
});

describe('every response', () => {
  it('answers an unknown route with the JSON error envelope', async () => {
    const res = await get('/v1/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ error: 'not_found', reason: 'not_found', message: 'no such route', error_description: 'no such route', request_id: res.headers.get('request-id') });
  });

  it.each<[string, string, RequestInit?]>([
    ['GET', '/healthz'],
    ['GET', '/readyz'],
    ['GET', '/openapi.json'],
    ['GET', '/v1/nope'],
    ['GET', '/v1/tokens'],
    ['GET', '/v1/whoami'],
    ['POST', '/v1/token', { headers: { 'content-type': 'application/json' }, body: '{' }],
    ['POST', '/v1/token', { headers: { 'content-type': 'text/plain' }, body: 'x' }],
  ])('%s %s carries a request-id header', async (method, path, init = {}) => {
    const res = await fetch(`${broker.url}${path}`, { method, ...init });
    const id = res.headers.get('request-id');
    expect(id).toMatch(/^req_[0-9A-Za-z]+$/);
    if (res.status >= 400) expect(await res.json()).toMatchObject({ error: expect.any(String), reason: expect.any(String), request_id: id });
  });

  it.each([
    ['/v1/whoami/sgt_pasted%E0%A4%A', 400, 'malformed_url'],
    [`/v1/tokens/sgt_pasted${'a'.repeat(200)}/revoke`, 414, 'url_too_long'],
  ])('refuses the malformed URL %s in the envelope, without quoting it', async (path, status, reason) => {
    const res = await fetch(`${broker.url}${path}`, { method: 'POST' });
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'invalid_request', reason, request_id: res.headers.get('request-id') });
    // The URL may hold a token pasted in the wrong place; a refusal never echoes it.
    expect(text).not.toContain('sgt_pasted');
  });
});
