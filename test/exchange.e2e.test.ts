// End to end over real HTTP: a GitHub-shaped issuer signs, the broker exchanges, the token works
// at /v1/whoami, is revoked through RFC 7009, and is refused from then on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWellFormedToken } from '../broker/exchange/token-format.ts';
import { startBroker, type TestBroker } from './helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.ts';

let issuer: OidcIssuer;
let broker: TestBroker;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  broker = await startBroker({ issuerUrl: issuer.url });
});
afterAll(async () => {
  await broker.close();
  await issuer.close();
});

const whoami = (token: string) => fetch(`${broker.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });

describe('token exchange, end to end', () => {
  it('exchanges, works, revokes, and is refused afterwards', async () => {
    const idToken = await issuer.sign(issuer.githubClaims());
    const { status, body } = await broker.exchange(idToken);
    expect(status).toBe(200);
    expect(body).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 900, scope: 'messages:create models:read skills:read', policy: 'ci' });
    const token = body['access_token'] as string;
    expect(isWellFormedToken(token)).toBe(true);

    const me = await whoami(token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: body['token_id'], state: 'active', identity: { repository_id: '74', repository_owner_id: '65', run_id: '1234567890', run_attempt: '1', actor: 'octocat', sha: expect.any(String) } });

    const revoke = await fetch(`${broker.url}/v1/token/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
    expect(revoke.status).toBe(200);

    const after = await whoami(token);
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ error: 'invalid_token', reason: 'token_revoked' });
  });

  it('accepts form bodies and narrows the grant with scope= and requested_ttl', async () => {
    const idToken = await issuer.sign(issuer.githubClaims());
    const res = await fetch(`${broker.url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: idToken, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', scope: 'messages:create', requested_ttl: '60' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ scope: 'messages:create', expires_in: 60 });
  });

  it('refuses to widen the grant', async () => {
    const { status, body } = await broker.exchange(await issuer.sign(issuer.githubClaims()), { scope: 'messages:create skills:write' });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_scope', reason: 'scope_exceeds_grant' });
  });

  it('an expired token is dead at once', async () => {
    let now = Date.now();
    const clocked = await startBroker({ issuerUrl: issuer.url, now: () => now });
    try {
      const { body } = await clocked.exchange(await issuer.sign(issuer.githubClaims()), { requested_ttl: 30 });
      now += 31_000;
      const res = await fetch(`${clocked.url}/v1/whoami`, { headers: { authorization: `Bearer ${String(body['access_token'])}` } });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ reason: 'token_expired' });
    } finally {
      await clocked.close();
    }
  });

  it('never writes a token into logs or the store', async () => {
    const idToken = await issuer.sign(issuer.githubClaims());
    const { body } = await broker.exchange(idToken);
    const token = body['access_token'] as string;
    await whoami(token);
    const denied = await broker.exchange(idToken); // replay: a denial path too
    expect(denied.status).toBe(401);
    const db = readFileSync(join(broker.dir, 'skillgate.db')).toString('latin1') + readWal();
    for (const secret of [idToken, token, idToken.split('.')[2]!]) {
      expect(broker.logs.join('\n')).not.toContain(secret);
      expect(db).not.toContain(secret);
      expect(JSON.stringify(denied.body)).not.toContain(secret);
    }
    expect(broker.logs.length).toBeGreaterThan(3);
  });
});

function readWal(): string {
  try {
    return readFileSync(join(broker.dir, 'skillgate.db-wal')).toString('latin1');
  } catch {
    return '';
  }
}
