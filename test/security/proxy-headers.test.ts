// Proxy attack family C.1 (reference/security.md), the headers: client credentials never go
// upstream (C-09), only allowlisted headers do (C-10), method-override headers are ignored (C-12),
// client request ids are not trusted (C-32), and an upstream redirect is not followed (C-29).
// Requests go over HTTP to a real broker; `stub.requests` shows exactly which headers reached
// "Anthropic". node:http is the client where fetch would refuse or rewrite a header (TRACE,
// Connection, Cookie); fetch is the client where its own redirect-following is the risk.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBroker } from '../helpers/broker.ts';
import { startProxyStack, type ProxyStack } from '../helpers/proxy-stack.ts';
import { STUB_API_KEY, type RecordedRequest, type StubUpstream } from '../stub-upstream/server.ts';

let stack: ProxyStack;
let stub: StubUpstream;
let broker: TestBroker;
let decoy: Decoy;
let token: string;

beforeAll(async () => {
  stack = await startProxyStack();
  ({ stub, broker, token } = stack);
  decoy = await startDecoy();
});
afterAll(async () => {
  await decoy.close();
  await stack.close();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** What the stub upstream received while the request ran. */
  upstream: RecordedRequest[];
}

/** `call` sends one request with exactly these headers (plus Host) on a fresh connection. */
async function call(method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<Answer> {
  const before = stub.requests.length;
  const { port } = new URL(broker.url);
  const answer = await new Promise<Omit<Answer, 'upstream'>>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  return { ...answer, upstream: stub.requests.slice(before) };
}

const VERSION = { 'anthropic-version': '2023-06-01' };
const ask = JSON.stringify({ model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
const postMessage = (headers: OutgoingHttpHeaders) => call('POST', '/v1/messages', { ...VERSION, 'content-type': 'application/json', ...headers }, ask);
const errorOf = (answer: Answer) => (JSON.parse(answer.text) as { error: { type: string; message: string }; request_id: string });

/** Every header name the proxy may send upstream: its allowlist plus what undici adds for framing. */
const UPSTREAM_HEADERS = new Set(['host', 'connection', 'content-length', 'content-type', 'anthropic-version', 'anthropic-beta', 'accept', 'accept-encoding', 'user-agent', 'x-api-key']);

// ---------------------------------------------------------------------------------------------
// A server standing in for evil.example: it must never hear from the proxy or its callers.

interface Decoy {
  url: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startDecoy(): Promise<Decoy> {
  const requests: Decoy['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":"message","content":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

describe('C-09 client-supplied credentials', () => {
  const ATTACKER_KEY = 'sk-ant-api03-attacker-key-1111111111111111111111111111';

  it.each<[string, () => OutgoingHttpHeaders]>([
    ['x-api-key and Bearer carrying the same token (claude-code-action)', () => ({ 'x-api-key': token, authorization: `Bearer ${token}` })],
    ['Bearer only, with a Cookie', () => ({ authorization: `Bearer ${token}`, cookie: `session=${ATTACKER_KEY}; sgt=${token}` })],
    ['x-api-key, with Authorization: Basic', () => ({ 'x-api-key': token, authorization: `Basic ${Buffer.from(`admin:${ATTACKER_KEY}`).toString('base64')}` })],
    ['an anthropic-admin key header and Proxy-Authorization', () => ({ 'x-api-key': token, 'anthropic-admin-api-key': 'sk-ant-admin01-attacker', 'proxy-authorization': `Bearer ${ATTACKER_KEY}` })],
  ])('%s: exactly one x-api-key upstream, the real key; nothing of the caller’s', async (_name, headers) => {
    const answer = await postMessage(headers());
    expect(answer.status).toBe(200);
    expect(answer.upstream).toHaveLength(1);
    const seen = answer.upstream[0]!;
    expect(seen.headers['x-api-key']).toBe(STUB_API_KEY);
    for (const name of ['authorization', 'cookie', 'anthropic-admin-api-key', 'proxy-authorization']) expect(seen.headers[name]).toBeUndefined();
    const wire = JSON.stringify(seen.headers) + seen.body.toString('utf8');
    expect(wire).not.toContain(token);
    expect(wire).not.toContain(ATTACKER_KEY);
  });

  it.each<[string, () => OutgoingHttpHeaders]>([
    ['the real upstream key presented as x-api-key', () => ({ 'x-api-key': STUB_API_KEY })],
    ['the real upstream key presented as Bearer', () => ({ authorization: `Bearer ${STUB_API_KEY}` })],
    ['an attacker key as x-api-key beside a valid Bearer token', () => ({ 'x-api-key': ATTACKER_KEY, authorization: `Bearer ${token}` })],
    ['an attacker key as Bearer beside a valid x-api-key', () => ({ 'x-api-key': token, authorization: `Bearer ${ATTACKER_KEY}` })],
    ['x-api-key sent twice (token, then attacker key)', () => ({ 'x-api-key': [token, ATTACKER_KEY] })],
    ['only a Cookie', () => ({ cookie: `x-api-key=${token}` })],
  ])('%s → 401, nothing upstream, no key echoed', async (_name, headers) => {
    const answer = await postMessage(headers());
    expect(answer.status).toBe(401);
    expect(errorOf(answer).error.type).toBe('authentication_error');
    expect(answer.upstream).toHaveLength(0);
    expect(answer.text).not.toContain(STUB_API_KEY);
    expect(answer.text).not.toContain(ATTACKER_KEY);
    expect(answer.text).not.toContain(token);
  });
});

describe('C-10 header allowlist upstream', () => {
  it.each<[string, OutgoingHttpHeaders]>([
    ['x-forwarded-for', { 'x-forwarded-for': '10.0.0.1' }],
    ['x-forwarded-host / -proto / -port', { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443' }],
    ['forwarded', { forwarded: 'for=10.0.0.1;host=evil.example;proto=https' }],
    ['via', { via: '1.1 evil-proxy' }],
    ['x-real-ip, true-client-ip, cf-connecting-ip', { 'x-real-ip': '10.0.0.1', 'true-client-ip': '10.0.0.1', 'cf-connecting-ip': '10.0.0.1' }],
    ['x-amz-*', { 'x-amz-security-token': 'FwoGZXIvYXdzEattacker', 'x-amz-date': '20260101T000000Z', 'x-amzn-trace-id': 'Root=1-attacker' }],
    ['URL-rewrite headers', { 'x-original-url': '/v1/organizations/api_keys', 'x-rewrite-url': '/v1/organizations/api_keys' }],
    ['the stub upstream’s own fault knob', { 'x-stub-fault': '500' }],
    ['a random x-* header', { 'x-totally-custom': 'value' }],
    ['SDK telemetry', { 'x-stainless-os': 'Linux', 'x-stainless-retry-count': '0' }],
    ['browser-access opt-in', { 'anthropic-dangerous-direct-browser-access': 'true' }],
    ['hop-by-hop TE, Keep-Alive, Proxy-Connection', { te: 'trailers', 'keep-alive': 'timeout=600', 'proxy-connection': 'keep-alive' }],
    ['a header that Connection names', { connection: 'keep-alive, x-hop-secret', 'x-hop-secret': 'value' }],
  ])('%s is not forwarded', async (_name, headers) => {
    const answer = await postMessage({ 'x-api-key': token, ...headers });
    expect(answer.status).toBe(200);
    expect(answer.upstream).toHaveLength(1);
    const seen = answer.upstream[0]!;
    for (const name of Object.keys(headers).filter((n) => n !== 'connection')) expect(seen.headers[name]).toBeUndefined();
    expect(Object.keys(seen.headers).filter((name) => !UPSTREAM_HEADERS.has(name))).toEqual([]);
  });

  it('forwards the allowlisted headers, and asks upstream for an uncompressed reply', async () => {
    const answer = await postMessage({ 'x-api-key': token, accept: 'application/json', 'user-agent': 'ci-job/1.0', 'accept-encoding': 'gzip, br' });
    expect(answer.status).toBe(200);
    const seen = answer.upstream[0]!.headers;
    expect(seen).toMatchObject({ 'anthropic-version': '2023-06-01', 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'ci-job/1.0', 'accept-encoding': 'identity' });
  });

  it.each(['2023-06-01\tx', '2023-06-01, 2026-10-21', 'latest', ''])('refuses anthropic-version %j before forwarding', async (version) => {
    const answer = await postMessage({ 'x-api-key': token, 'anthropic-version': version });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).error.type).toBe('invalid_request_error');
    expect(answer.upstream).toHaveLength(0);
  });
});

describe('C-12 method override', () => {
  const OVERRIDES = { 'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE' };

  it.each([
    ['GET', '/v1/models/claude-sonnet-5', undefined],
    ['POST', '/v1/messages', ask],
  ])('%s %s stays %s upstream whatever the override headers say', async (method, path, body) => {
    const answer = await call(method, path, { ...VERSION, 'x-api-key': token, 'content-type': 'application/json', ...OVERRIDES }, body);
    expect(answer.status).toBe(200);
    expect(answer.upstream.map((r) => `${r.method} ${r.path}`)).toEqual([`${method} ${path}`]);
    for (const name of Object.keys(OVERRIDES)) expect(answer.upstream[0]!.headers[name]).toBeUndefined();
  });

  it.each(['/v1/models/claude-sonnet-5?_method=DELETE', '/v1/models?_method=POST', '/v1/models?method=DELETE'])('refuses the override as a query parameter: %s', async (path) => {
    const answer = await call('GET', path, { ...VERSION, 'x-api-key': token });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).error.type).toBe('invalid_request_error');
    expect(answer.upstream).toHaveLength(0);
  });

  it.each(['HEAD', 'OPTIONS', 'TRACE', 'PUT', 'PATCH', 'DELETE'])('%s /v1/models → 405, nothing upstream', async (method) => {
    const answer = await call(method, '/v1/models', { ...VERSION, 'x-api-key': token });
    expect(answer.status).toBe(405);
    if (method !== 'HEAD') expect(errorOf(answer).error.type).toBe('invalid_request_error');
    expect(answer.upstream).toHaveLength(0);
  });
});

describe('C-32 request-id and X-Forwarded-For spoofing', () => {
  const SPOOFED = { 'request-id': 'req_SPOOFEDbyTheCaller', 'x-request-id': 'spoofed-x-request-id', 'x-forwarded-for': '203.0.113.99' };
  const BROKER_ID = /^req_[0-9A-Za-z]{16,}$/;
  const spoofedInLogs = () => broker.logs.filter((line) => Object.values(SPOOFED).some((value) => line.includes(value)));

  it('answers a refusal with the broker’s own id, in the header, the envelope and the logs', async () => {
    const answer = await postMessage({ 'x-api-key': 'sgt_not_a_real_token', ...SPOOFED });
    expect(answer.status).toBe(401);
    const id = answer.headers['request-id'];
    expect(id).toMatch(BROKER_ID);
    expect(errorOf(answer).request_id).toBe(id);
    expect(broker.logs.some((line) => line.includes(`"reqId":"${String(id)}"`))).toBe(true);
    expect(spoofedInLogs()).toEqual([]);
    expect(answer.upstream).toHaveLength(0);
  });

  it('neither forwards nor echoes client ids on an allowed request', async () => {
    const answer = await postMessage({ 'x-api-key': token, ...SPOOFED });
    expect(answer.status).toBe(200);
    expect(Object.values(SPOOFED)).not.toContain(answer.headers['request-id']);
    const seen = answer.upstream[0]!.headers;
    for (const name of Object.keys(SPOOFED)) expect(seen[name]).toBeUndefined();
    expect(spoofedInLogs()).toEqual([]);
  });
});

describe('C-29 upstream redirect', () => {
  it.each([301, 302, 303, 307, 308] as const)('an upstream %i to another origin is not followed, by the proxy or through its caller', async (status) => {
    stub.injectFault({ kind: 'redirect', status, location: `${decoy.url}/v1/messages`, method: 'POST', path: '/v1/messages' });
    const before = stub.requests.length;
    // fetch follows redirects and, unlike Authorization, keeps x-api-key across origins: the worst caller.
    const res = await fetch(`${broker.url}/v1/messages`, { method: 'POST', headers: { ...VERSION, 'x-api-key': token, 'content-type': 'application/json' }, body: ask });
    const text = await res.text();
    expect(decoy.requests).toEqual([]);
    expect(stub.requests.length - before).toBe(1);
    expect([status, 502]).toContain(res.status);
    expect(text).not.toContain(STUB_API_KEY);
  });
});
