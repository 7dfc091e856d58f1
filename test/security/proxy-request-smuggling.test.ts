// Proxy attack family C.1 (reference/security.md) over raw HTTP/1.1, against a real broker and the
// stub upstream: request smuggling and framing (C-01–C-03), pipelined requests with mixed tokens
// (C-04), absolute-form targets (C-05), Host games (C-06), CRLF and header injection (C-07),
// oversized headers (C-20) and connection upgrades (C-33). fetch normalises or refuses every one
// of these, so requests are written byte for byte on node:net sockets. Each case asserts what the
// caller saw and what reached "Anthropic" (`stub.requests`). Node's own parser refuses the framing
// attacks before fastify sees them: a 400 (431 for headers) without a request id, then a close.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBroker } from '../helpers/broker.ts';
import { PROXY_POLICIES, startProxyStack, type ProxyStack } from '../helpers/proxy-stack.ts';
import { STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';

let stack: ProxyStack;
let stub: StubUpstream;
let broker: TestBroker;
let decoy: Decoy;
let port: number;
let token: string;

const policies = [{ ...PROXY_POLICIES[0], grant: { scopes: ['messages:create', 'models:read'], models: ['claude-sonnet-5*'], max_tokens: 4096, ttl: '15m' } }];

beforeAll(async () => {
  stack = await startProxyStack({ policies });
  ({ stub, broker, token } = stack);
  decoy = await startDecoy();
  port = Number(new URL(broker.url).port);
});
afterAll(async () => {
  await decoy.close();
  await stack.close();
});

const mintToken = (exchange?: Record<string, unknown>) => stack.mint({}, exchange);

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 on a socket

interface RawResponse {
  status: number;
  /** Lower-case names; a repeated header is joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

interface RawConnection {
  /** Writes bytes exactly as given (strings as latin1, so every byte value can be sent). */
  send(bytes: string | Buffer): void;
  /** True once the server has sent a byte or closed: a real client stops writing then. */
  readonly answered: boolean;
  /** The next complete response; rejects if the server closes the connection first. */
  next(): Promise<RawResponse>;
  /** Resolves once the server has closed the connection, with every response it sent and any unparsed bytes. */
  closed: Promise<{ responses: RawResponse[]; trailing: Buffer }>;
  /** `send`, then `closed`. */
  sendAndWait(bytes: string | Buffer): Promise<{ responses: RawResponse[]; trailing: Buffer }>;
  destroy(): void;
}

/** `openConnection` connects to the broker; responses are parsed as they arrive (Content-Length or chunked). */
function openConnection(): RawConnection {
  const socket = connect(port, '127.0.0.1');
  const responses: RawResponse[] = [];
  let buffer: Buffer = Buffer.alloc(0);
  let read = 0;
  let ended = false;
  let answered = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on('data', (chunk: Buffer) => {
    answered = true;
    buffer = Buffer.concat([buffer, chunk]);
    for (let parsed = parseResponse(buffer); parsed; parsed = parseResponse(buffer)) {
      responses.push(parsed.response);
      buffer = parsed.rest;
    }
    wake();
  });
  // A refusal may reset the socket while the client still writes; what was received still counts.
  socket.on('error', () => undefined);
  const closed = new Promise<{ responses: RawResponse[]; trailing: Buffer }>((resolve) => {
    socket.on('close', () => {
      ended = true;
      answered = true;
      wake();
      resolve({ responses, trailing: buffer });
    });
  });
  const send = (bytes: string | Buffer) => void socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  return {
    send,
    get answered() {
      return answered;
    },
    next: async () => {
      while (read >= responses.length) {
        if (ended) throw new Error(`connection closed after ${responses.length} responses; unparsed: ${JSON.stringify(buffer.toString('latin1').slice(0, 200))}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return responses[read++]!;
    },
    closed,
    sendAndWait: (bytes) => {
      send(bytes);
      return closed;
    },
    destroy: () => socket.destroy(),
  };
}

function parseResponse(buffer: Buffer): { response: RawResponse; rest: Buffer } | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...lines] = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1] ?? Number.NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let at = headEnd + 4;
  if (headers['transfer-encoding'] === 'chunked') {
    const chunks: Buffer[] = [];
    for (;;) {
      const eol = buffer.indexOf('\r\n', at);
      if (eol === -1) return undefined;
      const size = parseInt(buffer.toString('latin1', at, eol), 16);
      if (buffer.length < eol + 2 + size + 2) return undefined;
      chunks.push(buffer.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
      if (size === 0) return { response: { status, headers, body: Buffer.concat(chunks) }, rest: buffer.subarray(at) };
    }
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buffer.length < at + length) return undefined;
  return { response: { status, headers, body: buffer.subarray(at, at + length) }, rest: buffer.subarray(at + length) };
}

/**
 * `send` writes `bytes` on a new connection and waits until the server closes it; `upstream` is
 * what the stub upstream received meanwhile.
 */
async function send(bytes: string | Buffer) {
  const before = stub.requests.length;
  const { responses, trailing } = await openConnection().sendAndWait(bytes);
  return { responses, trailing, upstream: stub.requests.slice(before) };
}

/** The header lines of an authenticated proxied request (CRLF-terminated). */
const auth = (t = token) => `x-api-key: ${t}\r\nanthropic-version: 2023-06-01\r\n`;
const ask = JSON.stringify({ model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
const listModels = (extra = '') => `GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}${extra}Connection: close\r\n\r\n`;

const errorType = (response: RawResponse) => (JSON.parse(response.body.toString('utf8')) as { error: { type: string } }).error.type;

/** Node's HTTP parser refused the bytes: fastify's clientError reply (no request id: no route ran), and nothing after it. */
function expectParserRefusal(result: { responses: RawResponse[]; trailing: Buffer }, status = 400): void {
  expect(result.responses.map((r) => r.status)).toEqual([status]);
  expect(result.responses[0]!.headers['request-id']).toBeUndefined();
  expect(result.trailing.length).toBe(0);
}

/** `upstreamDuring` runs a multi-step attack and returns what the stub upstream received meanwhile. */
async function upstreamDuring(attack: () => Promise<void>) {
  const before = stub.requests.length;
  await attack();
  return stub.requests.slice(before);
}

// ---------------------------------------------------------------------------------------------
// A server that must never hear from the proxy: the target of absolute-form and Host tricks.

interface Decoy {
  url: string;
  host: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startDecoy(): Promise<Decoy> {
  const requests: Decoy['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"decoy":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${host}`,
    host,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

describe('C-01 CL.TE smuggling', () => {
  it('refuses Content-Length with Transfer-Encoding; the smuggled Admin API request is never parsed', async () => {
    const smuggled = `GET /v1/organizations/api_keys HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}\r\n`;
    const attack = `POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Content-Type: application/json\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`;
    const result = await send(attack);
    expectParserRefusal(result);
    expect(result.upstream).toHaveLength(0);
  });

  it('refuses TE.CL the other way round as well', async () => {
    const attack = `POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /v1/organizations/api_keys HTTP/1.1\r\n\r\n0\r\n\r\n`;
    const result = await send(attack);
    expectParserRefusal(result);
    expect(result.upstream).toHaveLength(0);
  });

  it('still serves a well-formed chunked request, forwarding the checked body with its own framing', async () => {
    const chunked = `${ask.length.toString(16)}\r\n${ask}\r\n0\r\n\r\n`;
    const request = `POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`;
    const { responses, upstream } = await send(request);
    expect(responses.map((r) => r.status)).toEqual([200]);
    expect(upstream).toHaveLength(1);
    expect(JSON.parse(upstream[0]!.body.toString('utf8'))).toEqual(JSON.parse(ask));
    expect(upstream[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(upstream[0]!.headers['content-length']).toBe(String(upstream[0]!.body.length));
  });
});

describe('C-02 Transfer-Encoding obfuscation and header-name tricks', () => {
  const post = (headers: string, body = '0\r\n\r\n') => `POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Content-Type: application/json\r\n${headers}\r\n${body}`;

  it.each([
    ['Transfer-Encoding: chunked, identity (chunked not last)', post('Transfer-Encoding: chunked, identity\r\n')],
    ['Transfer-Encoding: identity alone', post('Transfer-Encoding: identity\r\n', '{}')],
    ['Transfer-Encoding: xchunked', post('Transfer-Encoding: xchunked\r\n')],
    ['a space before the colon (CVE-2022-32215 family)', post('Transfer-Encoding : chunked\r\n')],
    ['a vertical tab before chunked', post('Transfer-Encoding: \x0bchunked\r\n')],
    ['Transfer-Encoding twice (chunked, then identity)', post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n')],
    ['an obs-fold continuation of Transfer-Encoding (CVE-2022-32213)', post('Transfer-Encoding: chunked\r\n , identity\r\n')],
    ['Transfer-Encoding folded onto the next line', post('Transfer-Encoding:\r\n chunked\r\n')],
    ['a leading space before Content-Length (CVE-2024-27982)', post(' Content-Length: 2\r\n', '{}')],
    ['a leading space on the first header line', `POST /v1/messages HTTP/1.1\r\n Content-Length: 2\r\nHost: skillgate.test\r\n${auth()}\r\n{}`],
    ['two different Content-Lengths', post('Content-Length: 2\r\nContent-Length: 3\r\n', '{} ')],
    ['a Content-Length list', post('Content-Length: 2, 2\r\n', '{}')],
    ['a signed Content-Length', post('Content-Length: +2\r\n', '{}')],
    ['a negative Content-Length', post('Content-Length: -1\r\n', '{}')],
    ['a chunk size with a 0x prefix', post('Transfer-Encoding: chunked\r\n', '0x2\r\n{}\r\n0\r\n\r\n')],
    ['chunks delimited by bare LF (CVE-2021-22959 family)', post('Transfer-Encoding: chunked\r\n', '2\n{}\n0\n\n')],
  ])('%s → 400 from the parser, connection closed, nothing upstream', async (_name, attack) => {
    const result = await send(attack);
    expectParserRefusal(result);
    expect(result.upstream).toHaveLength(0);
  });
});

describe('C-03 chunk-extension flood (CVE-2024-22019)', () => {
  it('closes the connection long before a 1 MiB chunk extension has been sent', async () => {
    const connection = openConnection();
    connection.send(`POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1;`);
    const piece = Buffer.alloc(16 * 1024, 'a');
    let sent = 0;
    const upstream = await upstreamDuring(async () => {
      // One piece per event-loop turn, so the broker (same process) reads as the attacker writes.
      while (!connection.answered && sent < 1024 * 1024) {
        connection.send(piece);
        sent += piece.length;
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Had the broker kept reading, fail now rather than wait for the test timeout.
      if (!connection.answered) connection.destroy();
      expectParserRefusal(await connection.closed);
    });
    expect(sent).toBeLessThan(1024 * 1024);
    expect(upstream).toHaveLength(0);
  });
});

describe('C-04 pipelined requests with mixed tokens', () => {
  const get = (headers: string, close = false) => `GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\n${headers}anthropic-version: 2023-06-01\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

  it('authorizes every request on one keep-alive connection by its own token', async () => {
    const narrow = await mintToken({ scope: 'messages:create' }); // no models:read
    const pipeline = [
      get(`x-api-key: ${token}\r\n`),
      get(`x-api-key: ${narrow}\r\n`),
      get('x-api-key: sgt_not_a_real_token\r\n'),
      get(''),
      get(`authorization: Bearer ${token}\r\n`, true),
    ].join('');
    const { responses, upstream } = await send(pipeline);
    expect(responses.map((r) => r.status)).toEqual([200, 403, 401, 401, 200]);
    expect(new Set(responses.map((r) => r.headers['request-id'])).size).toBe(5);
    expect(upstream).toHaveLength(2);
    for (const seen of upstream) {
      expect(seen.headers['x-api-key']).toBe(STUB_API_KEY);
      expect(JSON.stringify(seen.headers)).not.toMatch(/sgt_/);
    }
  });

  it('does not let a later valid token lend its authority to an earlier refused one', async () => {
    const narrow = await mintToken({ scope: 'messages:create' });
    const pipeline = get(`x-api-key: ${narrow}\r\n`) + get(`x-api-key: ${token}\r\n`, true);
    const { responses, upstream } = await send(pipeline);
    expect(responses.map((r) => r.status)).toEqual([403, 200]);
    expect(upstream).toHaveLength(1);
  });

  it('applies a revocation to the next request on the same connection', async () => {
    const doomed = await mintToken();
    const connection = openConnection();
    const upstream = await upstreamDuring(async () => {
      connection.send(get(`x-api-key: ${doomed}\r\n`));
      expect((await connection.next()).status).toBe(200);
      const revoked = await fetch(`${broker.url}/v1/token/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: doomed }) });
      expect(revoked.status).toBe(200);
      connection.send(get(`x-api-key: ${doomed}\r\n`, true));
      const refused = await connection.next();
      expect(refused.status).toBe(401);
      expect(errorType(refused)).toBe('authentication_error');
      await connection.closed;
    });
    expect(upstream).toHaveLength(1);
  });
});

describe('C-05 absolute-form and other non-path targets', () => {
  it.each([
    ['cloud metadata', 'POST http://169.254.169.254/latest/meta-data/'],
    ['another origin, https', 'POST https://evil.example/v1/messages'],
    ['another origin, upper-case scheme', 'POST HTTP://evil.example/v1/messages'],
    ['a reachable local server', 'POST http://DECOY/v1/messages'],
    ['a scheme-relative target', 'POST //DECOY/v1/messages'],
    ['asterisk-form', 'OPTIONS *'],
  ])('%s → 400, and no origin is derived from the target', async (_name, target) => {
    const line = target.replace('DECOY', decoy.host);
    const attack = `${line} HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Content-Type: application/json\r\nContent-Length: ${ask.length}\r\nConnection: close\r\n\r\n${ask}`;
    const { responses, upstream } = await send(attack);
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(errorType(responses[0]!)).toBe('invalid_request_error');
    expect(upstream).toHaveLength(0);
    expect(decoy.requests).toHaveLength(0);
  });

  it('authority-form outside CONNECT is refused by the parser', async () => {
    const result = await send(`GET ${decoy.host} HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}\r\n`);
    expectParserRefusal(result);
    expect(result.upstream).toHaveLength(0);
    expect(decoy.requests).toHaveLength(0);
  });
});

describe('C-06 Host header games', () => {
  it.each([
    ['Host: evil.example', 'Host: evil.example\r\n'],
    ['Host naming a reachable local server', 'Host: DECOY\r\n'],
    ['Host: api.anthropic.com@evil', 'Host: api.anthropic.com@evil.example\r\n'],
    ['X-Forwarded-Host and Forwarded', 'Host: skillgate.test\r\nX-Forwarded-Host: DECOY\r\nForwarded: host=DECOY;proto=http\r\n'],
  ])('%s: ignored for routing; the upstream Host is the fixed origin', async (_name, headers) => {
    const request = `GET /v1/models HTTP/1.1\r\n${headers.replaceAll('DECOY', decoy.host)}${auth()}Connection: close\r\n\r\n`;
    const { responses, upstream } = await send(request);
    expect(responses.map((r) => r.status)).toEqual([200]);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.headers['host']).toBe(new URL(stub.url).host);
    expect(upstream[0]!.headers['x-forwarded-host']).toBeUndefined();
    expect(upstream[0]!.headers['forwarded']).toBeUndefined();
    expect(decoy.requests).toHaveLength(0);
  });

  it('refuses an HTTP/1.1 request without Host', async () => {
    const { responses, upstream } = await send(`GET /v1/models HTTP/1.1\r\n${auth()}\r\n`);
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(upstream).toHaveLength(0);
  });

  // RFC 9112 §3.2: more than one Host line MUST get a 400 (Node's parser alone keeps the first).
  it('refuses a duplicate Host with 400 and forwards nothing', async () => {
    const request = `GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\nHost: ${decoy.host}\r\n${auth()}Connection: close\r\n\r\n`;
    const { responses, upstream } = await send(request);
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(upstream).toHaveLength(0);
  });
});

describe('C-07 CRLF and header injection', () => {
  it.each([
    ['a bare CR inside a header value', `GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\nuser-agent: a\rx-injected: 1\r\n${auth()}\r\n`],
    ['a NUL inside a header value', `GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\nuser-agent: a\0x-injected: 1\r\n${auth()}\r\n`],
    ['a DEL inside a header value', `GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\nuser-agent: a\x7fb\r\n${auth()}\r\n`],
    ['an obs-fold line smuggling a header into anthropic-beta', `GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\nanthropic-beta: files-api-2025-04-14\r\n x-injected: 1\r\n${auth()}\r\n`],
    ['bare LF line endings', `GET /v1/models HTTP/1.1\nHost: skillgate.test\n${auth().replaceAll('\r\n', '\n')}\n`],
    ['a space inside the request target', `GET /v1/models HTTP/1.1 x HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}\r\n`],
  ])('%s → 400 from the parser, nothing upstream', async (_name, attack) => {
    const result = await send(attack);
    expectParserRefusal(result);
    expect(result.upstream).toHaveLength(0);
  });

  it('refuses a percent-encoded CRLF in the query before anything goes upstream', async () => {
    const request = `GET /v1/models?limit=10%0d%0aHost:%20evil.example HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Connection: close\r\n\r\n`;
    const { responses, upstream } = await send(request);
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(errorType(responses[0]!)).toBe('invalid_request_error');
    expect(upstream).toHaveLength(0);
  });

  it('never builds upstream headers from body fields: a CRLF in metadata.user_id stays JSON', async () => {
    const userId = 'ci-user\r\nx-injected: 1\r\n\r\nGET /v1/organizations/api_keys HTTP/1.1';
    const body = JSON.stringify({ ...(JSON.parse(ask) as object), metadata: { user_id: userId } });
    const request = `POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
    const { responses, upstream } = await send(request);
    expect(responses.map((r) => r.status)).toEqual([200]);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.path).toBe('/v1/messages');
    expect(upstream[0]!.headers['x-injected']).toBeUndefined();
    expect((JSON.parse(upstream[0]!.body.toString('utf8')) as { metadata: { user_id: string } }).metadata.user_id).toBe(userId);
  });
});

describe('C-20 oversized and too many headers', () => {
  const manyHeaders = (count: number, value: string) => Array.from({ length: count }, (_, i) => `x-h${i}: ${value}\r\n`).join('');

  it.each([
    ['a 20 KiB Cookie', `Cookie: session=${'a'.repeat(20 * 1024)}\r\n`],
    ['a 20 KiB X-Forwarded-For', `x-forwarded-for: ${'1.'.repeat(10 * 1024)}1\r\n`],
    ['1 000 headers totalling about 30 KiB', manyHeaders(1000, 'v'.repeat(16))],
  ])('%s → 431 from the parser, connection closed, nothing upstream', async (_name, headers) => {
    const result = await send(listModels(headers));
    expectParserRefusal(result, 431);
    expect(result.upstream).toHaveLength(0);
  });

  // Debatable (security.md C-20 lists "1 000 headers → 431"): Node caps the header block at 16 KiB
  // and silently keeps the first 2 000 headers, so 1 000 tiny headers (8 KiB) are served. None of
  // them is forwarded, which is what bounds the harm; this pins that.
  it('serves 1 000 tiny headers that fit in 16 KiB, forwarding none of them', async () => {
    const { responses, upstream } = await send(listModels(manyHeaders(1000, '1')));
    expect(responses.map((r) => r.status)).toEqual([200]);
    expect(upstream).toHaveLength(1);
    expect(Object.keys(upstream[0]!.headers).filter((name) => name.startsWith('x-h'))).toEqual([]);
  });
});

describe('C-33 upgrade, h2c, WebSocket and CONNECT', () => {
  it.each([
    ['WebSocket', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'],
    ['h2c', 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n'],
  ])('refuses an upgrade to %s with 400 and stays HTTP/1.1', async (_name, headers) => {
    const connection = openConnection();
    const upstream = await upstreamDuring(async () => {
      connection.send(`GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}${headers}\r\n`);
      const refused = await connection.next();
      expect(refused.status).toBe(400);
      expect(errorType(refused)).toBe('invalid_request_error');
      expect(refused.headers['upgrade']).toBeUndefined();
      // The connection still speaks HTTP/1.1: a plain request on it is answered as one.
      connection.send(listModels());
      expect((await connection.next()).status).toBe(200);
      await connection.closed;
    });
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.headers['upgrade']).toBeUndefined();
  });

  it('refuses an upgrade carrying a message body before reading it as a prompt', async () => {
    const attack = `POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\n${auth()}Connection: Upgrade, close\r\nUpgrade: websocket\r\nContent-Type: application/json\r\nContent-Length: ${ask.length}\r\n\r\n${ask}`;
    const { responses, upstream } = await send(attack);
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(upstream).toHaveLength(0);
  });

  it('drops a CONNECT tunnel request without answering or connecting', async () => {
    const { responses, trailing, upstream } = await send(`CONNECT ${decoy.host} HTTP/1.1\r\nHost: ${decoy.host}\r\n${auth()}\r\n`);
    expect(responses).toEqual([]);
    expect(trailing.length).toBe(0);
    expect(upstream).toHaveLength(0);
    expect(decoy.requests).toHaveLength(0);
  });

  it('refuses the HTTP/2 prior-knowledge preface', async () => {
    const result = await send('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    expectParserRefusal(result);
    expect(result.upstream).toHaveLength(0);
  });
});
