// Proxy attack family C.1 (reference/security.md) over HTTP, against a real broker and the stub
// upstream: path traversal (C-13), oversized bodies (C-18), compressed bodies (C-19), prototype
// poisoning (C-24), escapes and number tricks (C-26) and `stream` type confusion (C-28). Every
// refusal is asserted twice: what the caller saw, and that the stub upstream received nothing.
// Paths and oversized bodies are written on raw sockets (fetch would normalise `..` or give up
// writing once the broker answers); JSON bodies go through fetch.
import { connect } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBroker } from '../helpers/broker.ts';
import { PROXY_POLICIES, startProxyStack, type ProxyStack } from '../helpers/proxy-stack.ts';
import { STUB_ECHO_SECRET, type RecordedRequest, type StubUpstream } from '../stub-upstream/server.ts';

const LIMIT = 1024 * 1024;

let stack: ProxyStack;
let stub: StubUpstream;
let broker: TestBroker;
let port: number;
let token: string;

const policies = [
  {
    ...PROXY_POLICIES[0],
    grant: { scopes: ['messages:create', 'models:read', 'skills:read', 'files:read'], models: ['claude-sonnet-5*'], max_tokens: 4096, ttl: '15m' },
  },
];

beforeAll(async () => {
  stack = await startProxyStack({ policies, stub: { echoSecret: STUB_ECHO_SECRET }, upstream: { max_request_bytes: LIMIT } });
  ({ stub, broker, token } = stack);
  port = Number(new URL(broker.url).port);
});
afterAll(() => stack.close());

const VERSION = { 'anthropic-version': '2023-06-01' };
const ask = (extra: Record<string, unknown> = {}) => ({ model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }], ...extra });

interface Answer {
  status: number;
  contentType: string;
  text: string;
  /** What the stub upstream received while the request ran. */
  upstream: RecordedRequest[];
}

/** `postMessage` sends a body (an object is serialised; text and bytes go as they are) with fetch. */
async function postMessage(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const before = stub.requests.length;
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(`${broker.url}/v1/messages`, { method: 'POST', headers: { ...VERSION, 'x-api-key': token, 'content-type': 'application/json', ...headers }, body: payload });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, upstream: stub.requests.slice(before) };
}

const errorType = (text: string) => (JSON.parse(text) as { error: { type: string } }).error.type;

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 on a socket

interface RawAnswer {
  /** Status codes of the responses received, in order. */
  statuses: number[];
  /** Headers and body of the first response, as text. */
  first: { headers: string; body: string };
  upstream: RecordedRequest[];
}

/**
 * `sendRaw` writes `pieces` one per event-loop turn (the broker runs in this process, so it reads
 * as the client writes) and stops writing once the broker answers or closes, as a real client
 * would; then it waits for the broker to close the connection.
 */
async function sendRaw(pieces: (string | Buffer)[]): Promise<RawAnswer> {
  const before = stub.requests.length;
  const socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  let done = false;
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    done = true;
  });
  // A refusal may reset the socket while the client still writes; what was received still counts.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      done = true;
      resolve();
    }),
  );
  for (const piece of pieces) {
    if (done) break;
    const bytes = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
    socket.write(bytes);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await closed;
  const text = Buffer.concat(received).toString('latin1');
  const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));
  const headEnd = text.indexOf('\r\n\r\n');
  const length = Number(/^content-length: (\d+)$/im.exec(text.slice(0, headEnd))?.[1] ?? 0);
  const first = { headers: text.slice(0, headEnd), body: text.slice(headEnd + 4, headEnd + 4 + length) };
  return { statuses, first, upstream: stub.requests.slice(before) };
}

const split = (bytes: Buffer, size = 64 * 1024) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
const head = (lines: string) => `POST /v1/messages HTTP/1.1\r\nHost: skillgate.test\r\nx-api-key: ${token}\r\nanthropic-version: 2023-06-01\r\nContent-Type: application/json\r\n${lines}\r\n`;

/** A messages body of exactly `size` bytes: the prompt is padded to fit. */
function bodyOfSize(size: number): Buffer {
  const empty = JSON.stringify(ask({ messages: [{ role: 'user', content: '' }] }));
  return Buffer.from(JSON.stringify(ask({ messages: [{ role: 'user', content: 'x'.repeat(size - empty.length) }] })));
}

// ---------------------------------------------------------------------------------------------

describe('C-13 path traversal and normalisation over HTTP', () => {
  type Expected = { status: number; type?: string; parser?: true };
  const INVALID: Expected = { status: 400, type: 'invalid_request_error' };
  const NOT_PROXIED: Expected = { status: 403, type: 'permission_error' };
  const NOT_FOUND: Expected = { status: 404, type: 'not_found_error' };
  const PARSER: Expected = { status: 400, parser: true };

  it.each<[string, string, Expected]>([
    ['raw ..', '/v1/skills/../organizations/api_keys', INVALID],
    ['raw .. climbing out of batches', '/v1/messages/batches/msgbatch_01/../../../organizations/api_keys', INVALID],
    ['/./', '/v1/./models', INVALID],
    ['%2e%2e', '/v1/skills/%2e%2e/organizations', INVALID],
    ['.%2E', '/v1/skills/.%2E/organizations/api_keys', INVALID],
    ['..%2F', '/v1/skills/..%2Forganizations', INVALID],
    ['%2F inside an id', '/v1/models/claude%2F..%2F..%2Forganizations', INVALID],
    ['double-encoded %252e%252e', '/v1/skills/%252e%252e/organizations', INVALID],
    ['backslash ..\\', '/v1/skills/..\\organizations', INVALID],
    ['%5c', '/v1/skills/..%5corganizations', INVALID],
    ['// in the middle', '/v1//organizations/api_keys', INVALID],
    ['leading //', '//v1/models', INVALID],
    [';-params', '/v1/skills/..;/organizations', INVALID],
    ['%00', '/v1/models%00', INVALID],
    ['fullwidth ．．percent-encoded', '/v1/skills/%EF%BC%8E%EF%BC%8E/organizations', INVALID],
    ['overlong UTF-8 dot (not decodable: answered before routing)', '/v1/skills/%C0%AE%C0%AE/organizations', { status: 400 }],
    ['fullwidth ．．as raw UTF-8 bytes', Buffer.from('/v1/skills/\uff0e\uff0e/organizations', 'utf8').toString('latin1'), PARSER],
    ['a raw tab', '/v1/mod\tels', PARSER],
    ['/V1/Organizations', '/V1/Organizations/api_keys', NOT_PROXIED],
    ['a trailing slash', '/v1/models/', NOT_FOUND],
    ['a case variant', '/v1/Models', NOT_FOUND],
    ['a file id that is not file_…', '/v1/files/skill_01JAbc', NOT_FOUND],
  ])('%s → refused, nothing upstream', async (_name, target, expected) => {
    const answer = await sendRaw([`GET ${target} HTTP/1.1\r\nHost: skillgate.test\r\nx-api-key: ${token}\r\nanthropic-version: 2023-06-01\r\nConnection: close\r\n\r\n`]);
    expect(answer.statuses).toEqual([expected.status]);
    if (expected.type !== undefined) expect(errorType(answer.first.body)).toBe(expected.type);
    if (expected.parser) expect(answer.first.headers).not.toMatch(/^request-id:/im);
    expect(answer.upstream).toHaveLength(0);
  });

  it('forwards the canonical path through the same harness', async () => {
    const answer = await sendRaw([`GET /v1/models HTTP/1.1\r\nHost: skillgate.test\r\nx-api-key: ${token}\r\nanthropic-version: 2023-06-01\r\nConnection: close\r\n\r\n`]);
    expect(answer.statuses).toEqual([200]);
    expect(answer.upstream.map((r) => r.path)).toEqual(['/v1/models']);
  });
});

describe('C-18 oversized body', () => {
  it('refuses a body one byte over the limit with 413, and forwards one at the limit', async () => {
    const over = await postMessage(bodyOfSize(LIMIT + 1));
    expect(over.status).toBe(413);
    expect(errorType(over.text)).toBe('request_too_large');
    expect(over.upstream).toHaveLength(0);

    const at = await postMessage(bodyOfSize(LIMIT));
    expect(at.status).toBe(200);
    expect(at.upstream).toHaveLength(1);
    expect(at.upstream[0]!.body.length).toBe(LIMIT);
  });

  it('answers a declared 2 MiB body with 413 from its headers alone, before any body byte', async () => {
    // The client waits, as one sending `Expect: 100-continue` would: the refusal needs no body.
    const answer = await sendRaw([head(`Content-Length: ${2 * LIMIT}\r\n`)]);
    expect(answer.statuses).toEqual([413]);
    expect(errorType(answer.first.body)).toBe('request_too_large');
    expect(answer.upstream).toHaveLength(0);
  });

  it('refuses a chunked body, which declares no length, once it passes the limit', async () => {
    // 16 KiB pieces: the broker reads each one whole, so none is left unread when it closes.
    const pieces = split(bodyOfSize(2 * LIMIT), 16 * 1024);
    const upTo = Math.floor(LIMIT / (16 * 1024)) + 1;
    const chunks = pieces.slice(0, upTo).map((piece, i) => Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from(i === upTo - 1 ? '\r\n0\r\n\r\n' : '\r\n')]));
    const answer = await sendRaw([head('Transfer-Encoding: chunked\r\n'), ...chunks]);
    expect(answer.statuses).toEqual([413]);
    expect(errorType(answer.first.body)).toBe('request_too_large');
    expect(answer.upstream).toHaveLength(0);
  });

  it('reads only the declared Content-Length: 2 MiB more is not a body and not a request', async () => {
    const body = bodyOfSize(2 * LIMIT);
    const answer = await sendRaw([head('Content-Length: 10\r\n'), ...split(body)]);
    // The first 10 bytes are not JSON (400); the rest fails to parse as a request (400, close).
    // The broker may reset the socket before its answers arrive; it must never have forwarded.
    expect(answer.statuses.every((status) => status >= 400)).toBe(true);
    expect(answer.upstream).toHaveLength(0);
  });
});

describe('C-19 compressed request bodies', () => {
  // 10 MiB of zeros compress to about 10 KiB: inflating it would cost the broker 1 000 times more.
  const bomb = gzipSync(Buffer.alloc(10 * LIMIT));

  it.each<[string, Buffer]>([
    ['gzip', bomb],
    ['x-gzip', bomb],
    ['GZIP', bomb],
    ['deflate', deflateSync(JSON.stringify(ask()))],
    ['br', Buffer.from('not really brotli')],
    ['zstd', Buffer.from('not really zstd')],
    ['identity, gzip', gzipSync(JSON.stringify(ask()))],
  ])('Content-Encoding: %s → 415, nothing inflated or forwarded', async (encoding, body) => {
    const answer = await postMessage(body, { 'content-encoding': encoding });
    expect(answer.status).toBe(415);
    expect(errorType(answer.text)).toBe('invalid_request_error');
    expect(answer.upstream).toHaveLength(0);
  });

  it('accepts Content-Encoding: identity and forwards no encoding', async () => {
    const answer = await postMessage(ask(), { 'content-encoding': 'identity' });
    expect(answer.status).toBe(200);
    expect(answer.upstream).toHaveLength(1);
    expect(answer.upstream[0]!.headers['content-encoding']).toBeUndefined();
  });
});

describe('C-24 prototype poisoning', () => {
  const valid = JSON.stringify(ask()).slice(1, -1);

  it.each([
    ['top-level __proto__', `{"__proto__":{"model":"claude-opus-5"},${valid}}`],
    ['top-level constructor.prototype', `{"constructor":{"prototype":{"max_tokens":100000}},${valid}}`],
    ['__proto__ in metadata', `{${valid},"metadata":{"__proto__":{"user_id":"admin"}}}`],
    ['__proto__ in a content block', `{"model":"claude-sonnet-5","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"hi","__proto__":{"type":"tool_use"}}]}]}`],
    ['__proto__ spelled with an escape', `{"\\u005f_proto__":{"model":"claude-opus-5"},${valid}}`],
    ['constructor spelled with an escape', `{"\\u0063onstructor":{"prototype":{}},${valid}}`],
  ])('%s → 400, nothing upstream', async (_name, body) => {
    const answer = await postMessage(body);
    expect(answer.status).toBe(400);
    expect(errorType(answer.text)).toBe('invalid_request_error');
    expect(answer.upstream).toHaveLength(0);
  });
});

describe('C-26 escapes and number tricks', () => {
  const valid = JSON.stringify(ask()).slice(1, -1);
  const withMaxTokens = (raw: string) => `{"model":"claude-sonnet-5","max_tokens":${raw},"messages":[{"role":"user","content":"hi"}]}`;
  const withContent = (raw: string) => `{"model":"claude-sonnet-5","max_tokens":64,"messages":[{"role":"user","content":"${raw}"}]}`;

  it.each<[string, string | Buffer, number, string]>([
    ['max_tokens: 1e400 (Infinity)', withMaxTokens('1e400'), 400, 'invalid_request_error'],
    ['max_tokens: -0', withMaxTokens('-0'), 400, 'invalid_request_error'],
    ['max_tokens: 1.5', withMaxTokens('1.5'), 400, 'invalid_request_error'],
    ['max_tokens: 2^53+1', withMaxTokens('9007199254740993'), 400, 'invalid_request_error'],
    ['max_tokens as a string', withMaxTokens('"64"'), 400, 'invalid_request_error'],
    ['max_tokens just over the grant', withMaxTokens('4097'), 403, 'permission_error'],
    ['model with a NUL', `{"model":"claude-sonnet-5\\u0000","max_tokens":64,"messages":[]}`, 400, 'invalid_request_error'],
    ['model with a NUL and a suffix', `{"model":"claude-sonnet-5\\u0000-opus","max_tokens":64,"messages":[]}`, 400, 'invalid_request_error'],
    ['model spelled twice, once with an escape', `{${valid},"\\u006dodel":"claude-opus-5"}`, 400, 'invalid_request_error'],
    ['a lone surrogate escape', withContent('\\ud800'), 400, 'invalid_request_error'],
    ['a reversed surrogate pair', withContent('\\ude00\\ud83d'), 400, 'invalid_request_error'],
    ['a UTF-8 BOM before the body', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(ask()))]), 400, 'invalid_request_error'],
    ['invalid UTF-8 in a string', Buffer.concat([Buffer.from(withContent('').slice(0, -4)), Buffer.from([0xc0, 0xae]), Buffer.from('"}]}')]), 400, 'invalid_request_error'],
  ])('%s → %i, nothing upstream', async (_name, body, status, type) => {
    const answer = await postMessage(body);
    expect(answer.status).toBe(status);
    expect(errorType(answer.text)).toBe(type);
    expect(answer.upstream).toHaveLength(0);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['an escaped key is the key it spells', `{"\\u006dodel":"claude-sonnet-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`, { model: 'claude-sonnet-5' }],
    ['1.0e2 is the integer 100', withMaxTokens('1.0e2'), { max_tokens: 100 }],
    ['a well-formed surrogate pair', withContent('\\ud83d\\ude00'), { messages: [{ role: 'user', content: '\u{1f600}' }] }],
  ])('%s: forwarded as the value the guard checked', async (_name, body, expected) => {
    const answer = await postMessage(body);
    expect(answer.status).toBe(200);
    expect(answer.upstream).toHaveLength(1);
    const forwarded = answer.upstream[0]!.body.toString('utf8');
    expect(JSON.parse(forwarded)).toMatchObject(expected);
    // Re-serialised, not passed through: the upstream cannot read an escape or notation differently.
    expect(forwarded).not.toMatch(/\\u00|1\.0e2|\\ud83d/i);
  });
});

describe('C-28 stream type confusion', () => {
  const valid = JSON.stringify(ask()).slice(1, -1);

  it.each([
    ['"stream": "true"', `{${valid},"stream":"true"}`],
    ['"stream": "false"', `{${valid},"stream":"false"}`],
    ['"stream": 1', `{${valid},"stream":1}`],
    ['"stream": null', `{${valid},"stream":null}`],
    ['"stream": [true]', `{${valid},"stream":[true]}`],
    ['stream twice', `{${valid},"stream":true,"stream":false}`],
  ])('%s → 400, nothing upstream', async (_name, body) => {
    const answer = await postMessage(body);
    expect(answer.status).toBe(400);
    expect(errorType(answer.text)).toBe('invalid_request_error');
    expect(answer.upstream).toHaveLength(0);
  });

  it('Accept: text/event-stream without stream gets a JSON reply, masked as JSON', async () => {
    const answer = await postMessage(ask({ messages: [{ role: 'user', content: 'echo-secret' }] }), { accept: 'text/event-stream' });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect((JSON.parse(answer.text) as { type: string }).type).toBe('message');
    expect(answer.text).not.toContain(STUB_ECHO_SECRET);
    expect(answer.text).toMatch(/\[MASKED:[a-z0-9-]+\]/);
    expect(JSON.parse(answer.upstream[0]!.body.toString('utf8'))).not.toHaveProperty('stream');
  });

  it('stream: true with Accept: application/json gets SSE, masked as a stream', async () => {
    const answer = await postMessage(ask({ stream: true, messages: [{ role: 'user', content: 'echo-secret' }] }), { accept: 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/event-stream/);
    expect(answer.text).toContain('event: message_stop');
    expect(answer.text).not.toContain(STUB_ECHO_SECRET);
    expect(answer.text).toMatch(/\[MASKED:[a-z0-9-]+\]/);
  });
});
