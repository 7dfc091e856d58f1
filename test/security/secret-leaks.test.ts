// security.md §C.2: the upstream key, the caller's skillgate token and the OIDC token it was
// exchanged for never leave the broker outside a (masked) body — not in trace-level logs, not in
// any response body or header a client saw, not in /metrics, not in the SQLite store — also when
// the upstream refuses the key (401), refuses the request (400), fails (5xx), stalls past
// `response_timeout` or resets the connection. A real broker, the stub upstream, real HTTP.
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../broker/exchange/token-format.ts';
import { startBroker, DEFAULT_POLICIES, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, STUB_ECHO_SECRET, type Fault, type StubUpstream } from '../stub-upstream/server.ts';

const KEY_VAR = 'SKILLGATE_SECRET_LEAKS_UPSTREAM_KEY';
const CANARY_VAR = 'SKILLGATE_SECRET_LEAKS_CANARY';
const CANARY = `canary-${randomBytes(12).toString('hex')}`;

const policies = [
  {
    ...DEFAULT_POLICIES[0],
    grant: {
      scopes: ['messages:create', 'models:read'],
      models: ['claude-sonnet-5*'],
      max_tokens: 4096,
      tools: { custom: 'allow' },
      ttl: '15m',
    },
  },
];
const ask = { model: 'claude-sonnet-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'hello' }] };

let issuer: OidcIssuer;
let stub: StubUpstream;
let broker: TestBroker;
/** The ID token the skillgate token was exchanged for, and the skillgate token itself. */
let idToken: string;
let token: string;
/** Credentials the tests present and the broker refuses; none may come back either. */
const refusedCredentials: { name: string; value: string }[] = [];
/** Every response the client saw except the exchange that delivered `token`: status, headers, body. */
const seen: string[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stub = await startStubUpstream();
  process.env[KEY_VAR] = STUB_API_KEY;
  process.env[CANARY_VAR] = CANARY;
  broker = await startBroker({
    issuerUrl: issuer.url,
    policies,
    logLevel: 'trace',
    config: { upstream: { base_url: stub.url, credential: `env:${KEY_VAR}`, response_timeout: '1s' } },
  });
  idToken = await issuer.sign(issuer.githubClaims());
  const { status, body } = await broker.exchange(idToken);
  expect(status).toBe(200);
  token = body['access_token'] as string;
});
afterAll(async () => {
  await broker.close();
  await stub.close();
  await issuer.close();
  Reflect.deleteProperty(process.env, KEY_VAR);
  Reflect.deleteProperty(process.env, CANARY_VAR);
});

/**
 * `encodings` returns `value` in the forms a leak could take: raw, URL- and JSON-escaped, hex, and
 * base64 / base64url at byte offsets 0–2 (whole groups only, so a match anywhere inside a longer
 * encoded string is found — GitHub's runner masks the same set).
 */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value);
  const forms = [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), bytes.toString('hex')];
  for (let offset = 0; offset < 3; offset++) {
    const part = bytes.subarray(offset);
    const base64 = part.toString('base64').slice(0, Math.floor(part.length / 3) * 4);
    forms.push(base64, base64.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...new Set(forms)];
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

interface Watched {
  name: string;
  forms: string[];
}

/** The secrets themselves, in every encoding: never anywhere outside the broker's memory. */
function secrets(): Watched[] {
  return [
    { name: 'upstream key', forms: encodings(STUB_API_KEY) },
    { name: 'skillgate token', forms: encodings(token) },
    { name: 'ID token', forms: encodings(idToken) },
    ...refusedCredentials.map(({ name, value }) => ({ name, forms: encodings(value) })),
  ];
}

/** Hashes of the caller's credentials: fine in the store (that is how tokens are kept), never in a response. */
function hashes(): Watched[] {
  const all = [{ name: 'skillgate token', value: token }, { name: 'ID token', value: idToken }, ...refusedCredentials];
  return all.map(({ name, value }) => {
    const digest = createHash('sha256').update(value).digest();
    return { name: `SHA-256 of ${name}`, forms: [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')] };
  });
}

/** `leaksIn` names every watched form found in `text` (an empty list is the pass). */
function leaksIn(text: string, watched: readonly Watched[]): string[] {
  return watched.flatMap(({ name, forms }) => forms.filter((form) => text.includes(form)).map((form) => `${name} as ${form}`));
}

interface Seen {
  status: number;
  headers: Headers;
  body: string;
  /** Status, headers and body as one text, for greps. */
  all: string;
}

function render(res: Response, body: string): string {
  return `${res.status}\n${[...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n\n${body}`;
}

/** `call` fetches from the broker and keeps everything the client saw for the sweeps at the end. */
async function call(path: string, init: RequestInit = {}): Promise<Seen> {
  const res = await fetch(`${broker.url}${path}`, init);
  const body = await res.text();
  const all = render(res, body);
  seen.push(all);
  return { status: res.status, headers: res.headers, body, all };
}

const apiHeaders = (credential = token): Record<string, string> => ({
  authorization: `Bearer ${credential}`,
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
});

function createMessage(body: Record<string, unknown> = {}, credential = token): Promise<Seen> {
  return call('/v1/messages', { method: 'POST', headers: apiHeaders(credential), body: JSON.stringify({ ...ask, ...body }) });
}

/** Bodies the SDK read, recorded through its `fetch` hook (a tee, so the SDK still streams). */
const sdkReads: Promise<void>[] = [];
function sdk(): Anthropic {
  return new Anthropic({
    baseURL: broker.url,
    apiKey: token,
    maxRetries: 0,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      sdkReads.push(res.clone().text().then((body) => void seen.push(render(res, body)), () => undefined));
      return res;
    },
  });
}

const onMessages = (fault: Fault): Fault => ({ method: 'POST', path: '/v1/messages', ...fault });

function errorEnvelope(body: string): { type: string; error: { type: string; message: string }; request_id?: string } {
  return JSON.parse(body) as { type: string; error: { type: string; message: string }; request_id?: string };
}

describe('C-36 upstream failures, each of which the sweeps at the end grep for secrets', () => {
  it('baseline: a message and a stream go through', async () => {
    expect((await createMessage()).status).toBe(200);
    const streamed = await createMessage({ stream: true });
    expect(streamed.status).toBe(200);
    expect(streamed.body).toContain('event: message_stop');
  });

  it('upstream 401: the key is refreshed and retried once, then the 401 reaches the client', async () => {
    stub.setApiKeys(['sk-ant-api03-rotated-elsewhere-000000000000000000000']);
    try {
      const before = stub.requests.length;
      const res = await createMessage();
      expect(res.status).toBe(401);
      expect(errorEnvelope(res.body).error.type).toBe('authentication_error');
      expect(stub.requests.slice(before).map((r) => r.headers['x-api-key'])).toEqual([STUB_API_KEY, STUB_API_KEY]);
    } finally {
      stub.setApiKeys([STUB_API_KEY]);
    }
  });

  it.each([400, 429, 500, 529])('upstream %i passes through with its status and envelope', async (status) => {
    stub.injectFault(onMessages({ kind: 'status', status }));
    const res = await createMessage();
    expect(res.status).toBe(status);
    expect(errorEnvelope(res.body).type).toBe('error');
  });

  it('a first byte later than response_timeout (1 s) is a generic 5xx', async () => {
    stub.injectFault(onMessages({ kind: 'slow-first-byte', delayMs: 4000 }));
    const res = await createMessage();
    expect([502, 504]).toContain(res.status);
    expect(errorEnvelope(res.body).error.type).toBe('api_error');
  });

  it('a connection reset before any byte is a generic 502', async () => {
    stub.injectFault(onMessages({ kind: 'reset' }));
    const res = await createMessage();
    expect(res.status).toBe(502);
    expect(errorEnvelope(res.body).error.type).toBe('api_error');
  });

  it('a reset mid-stream ends the stream with a terminal event: error', async () => {
    stub.injectFault(onMessages({ kind: 'stream-reset', afterEvents: 3 }));
    const res = await createMessage({ stream: true });
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('event: message_stop');
    expect(res.body.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: /);
  });

  it('credentials in the URL query are refused or ignored, never logged', async () => {
    const inQuery = await call(`/v1/models?api_key=${token}`, { headers: { 'anthropic-version': '2023-06-01' } });
    expect(inQuery.status).toBe(401);
    const exchangeInQuery = await call(`/v1/token?subject_token=${idToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: idToken, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
    });
    expect(exchangeInQuery.status).toBe(400);
  });
});

describe('C-37 error responses pass through the masker and never echo a credential', () => {
  it('an upstream 4xx that echoes the real key reaches the client masked (LiteLLM #6963)', async () => {
    stub.injectFault(onMessages({ kind: 'status', status: 400, message: `invalid x-api-key: ${STUB_API_KEY}` }));
    const res = await createMessage();
    expect(res.status).toBe(400);
    expect(errorEnvelope(res.body).error.message).toMatch(/^invalid x-api-key: \[MASKED:[a-z0-9-]+\]$/);
  });

  it('so does a 401 that echoes it on the first try and on the retry', async () => {
    const echo = onMessages({ kind: 'status', status: 401, message: `key ${STUB_API_KEY} is disabled` });
    stub.injectFault(echo);
    stub.injectFault(echo);
    const res = await createMessage();
    expect(res.status).toBe(401);
    expect(errorEnvelope(res.body).error.message).toMatch(/^key \[MASKED:[a-z0-9-]+\] is disabled$/);
  });

  it('a 5xx echoing a secret-shaped value is masked by pattern', async () => {
    stub.injectFault(onMessages({ kind: 'status', status: 500, message: `crashed while holding ${STUB_ECHO_SECRET}` }));
    const res = await createMessage();
    expect(res.status).toBe(500);
    expect(res.body).not.toContain(STUB_ECHO_SECRET.slice(20, 60));
    expect(errorEnvelope(res.body).error.message).toMatch(/\[MASKED:[a-z0-9-]+\]$/);
  });

  it('an upstream validation error that quotes the caller\'s input never hands the caller\'s token back (LiteLLM #18731)', async () => {
    // The grant's model glob admits the name; the stub answers 404 `model: <name>`, quoting it.
    const res = await createMessage({ model: `claude-sonnet-5-${token}` });
    expect(res.status).toBe(404);
    expect(res.body).toContain('claude-sonnet-5-');
    expect(leaksIn(res.body, [{ name: 'skillgate token', forms: encodings(token) }])).toEqual([]);
  });

  it('a mid-stream event: error quoting a secret reaches the SDK masked, as a thrown APIError (C-38)', async () => {
    stub.injectFault(onMessages({ kind: 'stream-error', afterEvents: 4, errorType: 'api_error', message: `upstream saw ${STUB_ECHO_SECRET}` }));
    const error = await sdk()
      .messages.stream(ask)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('upstream saw [MASKED:');
    expect((error as APIError).message).not.toContain(STUB_ECHO_SECRET.slice(20, 60));
  });

  it('the broker\'s own 401s name the problem without echoing the credential or its hash (LiteLLM #39757)', async () => {
    const unknown = generateToken();
    const { body } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
    const revoked = body['access_token'] as string;
    const malformed = `sgt_${randomBytes(20).toString('hex')}`;
    refusedCredentials.push({ name: 'unknown token', value: unknown }, { name: 'revoked token', value: revoked }, { name: 'malformed token', value: malformed });
    await call('/v1/token/revoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: revoked }) });

    const refusals = [
      await createMessage({}, unknown),
      await createMessage({}, revoked),
      await createMessage({}, malformed),
      await call('/v1/messages', { method: 'POST', headers: { ...apiHeaders(), 'x-api-key': unknown }, body: JSON.stringify(ask) }),
      await call('/v1/whoami', { headers: { authorization: `Bearer ${revoked}` } }),
      await call('/v1/whoami', { headers: { authorization: `Bearer ${unknown}` } }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);
    for (const res of refusals) expect(leaksIn(res.all, [...secrets(), ...hashes()])).toEqual([]);
  });

  it('a refused exchange never echoes the ID token or its hash', async () => {
    const elsewhere = await issuer.sign(issuer.githubClaims({ aud: 'https://elsewhere.test' }));
    refusedCredentials.push({ name: 'wrong-audience ID token', value: elsewhere });
    const replayed = await call('/v1/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: idToken, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
    });
    const wrongAudience = await call('/v1/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: elsewhere, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
    });
    expect([replayed.status, wrongAudience.status]).toEqual([401, 401]);
    expect(JSON.parse(replayed.body)).toMatchObject({ reason: 'replayed' });
    expect(JSON.parse(wrongAudience.body)).toMatchObject({ reason: 'audience_mismatch' });
    for (const res of [replayed, wrongAudience]) expect(leaksIn(res.all, [...secrets(), ...hashes()])).toEqual([]);
  });
});

/** An upstream that sends what real edges add to a reply: cookies, org ids, infrastructure and hop-by-hop headers. */
const INFRA_HEADERS: Record<string, string> = {
  'set-cookie': 'upstream_session=c39-cookie-value; Path=/; HttpOnly',
  'anthropic-organization-id': 'c39-org-0000-0000',
  'x-organization-id': 'c39-org-alt-0000',
  server: 'c39-edge-server',
  via: '1.1 c39-edge-via',
  'cf-ray': 'c39c39c39c39c39c-SJC',
  'x-envoy-upstream-service-time': 'c39-envoy',
  'x-amzn-trace-id': 'Root=1-c39-trace',
  'alt-svc': 'h3=":443"; ma=c39',
  'x-c39-hop': 'c39-hop-value',
  connection: 'keep-alive, x-c39-hop',
};
const PASSED_HEADERS: Record<string, string> = {
  'request-id': 'req_011CC39upstream0000000000',
  'anthropic-ratelimit-requests-limit': '4000',
  'anthropic-ratelimit-requests-remaining': '3999',
  'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:00Z',
  'retry-after': '7',
  'x-should-retry': 'false',
};

describe('C-39 response headers: an allowlist, not a denylist', () => {
  let upstream: { url: string; close(): Promise<void> };
  let headerBroker: TestBroker;
  let headerToken: string;

  beforeAll(async () => {
    upstream = await startUpstream((res, streaming) => {
      const headers = { ...INFRA_HEADERS, ...PASSED_HEADERS };
      if (streaming) {
        res.writeHead(200, { ...headers, 'content-type': 'text/event-stream' });
        res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
      } else {
        res.writeHead(429, { ...headers, 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' }, request_id: PASSED_HEADERS['request-id'] }));
      }
    });
    headerBroker = await startBroker({ issuerUrl: issuer.url, policies, config: { upstream: { base_url: upstream.url, credential: `env:${KEY_VAR}` } } });
    const { body } = await headerBroker.exchange(await issuer.sign(issuer.githubClaims()));
    headerToken = body['access_token'] as string;
  });
  afterAll(async () => {
    await headerBroker.close();
    await upstream.close();
  });

  it.each([
    { reply: 'a JSON 429', stream: false, status: 429 },
    { reply: 'an SSE 200', stream: true, status: 200 },
  ])('$reply: set-cookie, org ids, infrastructure and hop-by-hop headers stay behind; request-id, rate-limit and retry hints pass', async ({ stream, status }) => {
    const res = await fetch(`${headerBroker.url}/v1/messages`, { method: 'POST', headers: apiHeaders(headerToken), body: JSON.stringify({ ...ask, stream }) });
    await res.arrayBuffer();
    expect(res.status).toBe(status);
    const received = Object.fromEntries(res.headers);
    expect(Object.keys(received).filter((name) => name in INFRA_HEADERS && name !== 'connection')).toEqual([]);
    const values = Object.values(received).join('\n');
    expect(Object.values(INFRA_HEADERS).filter((value) => value.includes('c39') && values.includes(value))).toEqual([]);
    expect(received).toMatchObject(PASSED_HEADERS);
  });

  it('the stub\'s own reply: its organization id is dropped, its request id and rate limits pass', async () => {
    const res = await createMessage();
    expect(res.status).toBe(200);
    expect(res.headers.get('anthropic-organization-id')).toBeNull();
    expect(res.headers.get('request-id')).toMatch(/^req_011CStub/);
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe('4000');
  });
});

describe('C-40 no endpoint returns config or environment', () => {
  const paths = ['/healthz', '/readyz', '/metrics', '/openapi.json', '/debug', '/debug/vars', '/debug/pprof', '/env', '/config', '/.env', '/v1/config', '/actuator/env', '/server-status', '/v1/whoami'];

  it.each(paths)('GET %s, with and without the token', async (path) => {
    const forbidden: Watched[] = [
      ...secrets(),
      { name: 'environment', forms: [CANARY, CANARY_VAR, KEY_VAR] },
      { name: 'configuration', forms: [broker.dir, stub.url, `env:${KEY_VAR}`] },
    ];
    for (const headers of [{}, apiHeaders()]) {
      const res = await call(path, { headers });
      expect(leaksIn(res.all, forbidden)).toEqual([]);
    }
  });
});

describe('C-36 sweeps over everything the failures above produced', () => {
  it('the broker logs, at trace level, hold none of the secrets in any encoding', () => {
    const logs = broker.logs.join('');
    // The failure paths did log (so the grep below has something to read).
    expect(logs).toContain('upstream_unreachable');
    expect(logs).toContain('token_unknown');
    expect(leaksIn(logs, secrets())).toEqual([]);
  });

  it('no response body or header the client saw holds a secret or a credential hash', async () => {
    await Promise.all(sdkReads);
    expect(seen.length).toBeGreaterThan(40);
    expect(leaksIn(seen.join('\n'), [...secrets(), ...hashes()])).toEqual([]);
  });

  it('/metrics holds none, not even as a label', async () => {
    const res = await fetch(`${broker.url}/metrics`);
    const text = await res.text();
    expect(text).toContain('skillgate_upstream_errors_total');
    expect(leaksIn(text, [...secrets(), ...hashes()])).toEqual([]);
  });

  it('the SQLite store holds the skillgate token only as its SHA-256, and nothing else secret', () => {
    const files = readdirSync(broker.dir, { recursive: true, encoding: 'utf8' }).map((name) => join(broker.dir, name)).filter((path) => statSync(path).isFile());
    const bytes = files.map((path) => readFileSync(path).toString('latin1')).join('\n');
    expect(bytes).toContain(sha256(token));
    expect(leaksIn(bytes, secrets())).toEqual([]);
  });
});

/** `startUpstream` serves every POST /v1/messages with `reply` (told whether the caller asked to stream). */
async function startUpstream(reply: (res: ServerResponse, streaming: boolean) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { stream?: unknown };
      reply(res, body.stream === true);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
