// The Action's broker client against a real broker (no toolkit involved), and against the two
// ways a broker URL can be wrong: nothing listening, and something that is not the broker.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerRequestError, createBrokerClient } from '../../action/broker-client.ts';
import { withRetries } from '../../action/retry.ts';
import { closedPortUrl, startStack, type Stack } from './stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

const idToken = (overrides: Record<string, unknown> = {}) => stack.issuer.sign(stack.issuer.githubClaims(overrides));
const refusal = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a refusal'), (err: unknown) => err as BrokerRequestError);

describe('createBrokerClient', () => {
  it('exchanges an ID token, narrowing scope and ttl, and describes the token', async () => {
    const client = createBrokerClient(stack.broker.url);
    const issued = await client.exchange({ subjectToken: await idToken(), scope: 'messages:create', ttlSeconds: 120 });
    expect(issued).toMatchObject({ token_type: 'Bearer', scope: 'messages:create', expires_in: 120, policy: 'ci', token_id: expect.stringMatching(/^tok_/) });
    const me = await client.whoami(issued.access_token);
    expect(me).toMatchObject({ id: issued.token_id, policy: 'ci', scopes: ['messages:create'], state: 'active', identity: { repository: 'octo-org/octo-repo' } });
  });

  it('reads its own session, and after revoke the token is refused', async () => {
    const client = createBrokerClient(stack.broker.url);
    const issued = await client.exchange({ subjectToken: await idToken() });
    const session = await client.session(issued.access_token, issued.token_id);
    expect(session.session).toBe(issued.token_id);
    expect(session.token).toMatchObject({ policy: 'ci' });
    expect(session.events.map((e) => e.type)).toContain('token.exchange');
    expect(session.calls).toEqual([]);

    await client.revoke(issued.access_token);
    const err = await refusal(client.whoami(issued.access_token));
    expect(err).toBeInstanceOf(BrokerRequestError);
    expect(err.kind).toBe('refused');
    expect(err.details).toMatchObject({ status: 401, error: 'invalid_token', reason: 'token_revoked' });
  });

  it('cannot read another token\'s session', async () => {
    const client = createBrokerClient(stack.broker.url);
    const mine = await client.exchange({ subjectToken: await idToken() });
    const other = await client.exchange({ subjectToken: await idToken() });
    const err = await refusal(client.session(mine.access_token, other.token_id));
    expect(err.details).toMatchObject({ status: 403, reason: 'audit_scope' });
  });

  it('turns a broker refusal into error, reason, message and request id', async () => {
    const client = createBrokerClient(stack.broker.url);
    const err = await refusal(client.exchange({ subjectToken: await idToken({ repository_id: '999' }) }));
    expect(err.kind).toBe('refused');
    expect(err.details).toMatchObject({ status: 403, error: 'policy_denied', requestId: expect.stringMatching(/^req_/) });
    expect(err.message).toContain('repository_id');
  });

  it('reports an unreachable broker with the network cause', async () => {
    const url = await closedPortUrl();
    const err = await refusal(createBrokerClient(url).whoami('sgt_x'));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(`cannot reach the broker at ${url} (ECONNREFUSED)`);
  });

  it('reports a timeout', async () => {
    const server = createServer(() => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const err = await refusal(createBrokerClient(url, { timeoutMs: 200 }).whoami('sgt_x'));
    expect(err.message).toBe(`cannot reach the broker at ${url} (timed out)`);
    server.closeAllConnections();
    server.close();
  });

  it('says when the URL answers but is not a broker (a proxy error page)', async () => {
    const server = createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const err = await refusal(createBrokerClient(url).exchange({ subjectToken: 'x.y.z' }));
    expect(err.kind).toBe('unexpected');
    expect(err.details.status).toBe(502);
    expect(err.message).toContain('HTTP 502 and no skillgate JSON body');
    server.close();
  });
});

describe('withRetries', () => {
  it('retries what is retryable, waiting longer each time, and rethrows the last error', async () => {
    const waits: number[] = [];
    let calls = 0;
    const fail = () => Promise.reject(new Error(`attempt ${++calls}`));
    await expect(withRetries(fail, { attempts: 3, sleep: async (ms) => void waits.push(ms) })).rejects.toThrow('attempt 3');
    expect(waits).toEqual([1000, 2000]);
  });

  it('stops at once on an error that is not retryable', async () => {
    let calls = 0;
    await expect(withRetries(() => Promise.reject(new Error(`no ${++calls}`)), { attempts: 3, retryable: () => false, sleep: async () => undefined })).rejects.toThrow('no 1');
  });
});
