// security.md §C.3 over HTTP: the stream-level masking bypasses played through a real broker, with
// the stub upstream (or, where the stub cannot say it, a scripted raw upstream) on one side and the
// official SDK or raw fetch on the other. The byte-level cases live in response-masking.test.ts;
// here the point is what survives real sockets: chunking, compression, aborts and resets.
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBroker, DEFAULT_POLICIES, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { blockStart, blockStop, chunk, fragments, MESSAGE_END, MESSAGE_START, sse, textDelta } from '../mask/fixtures.ts';
import { startStubUpstream, STUB_API_KEY, STUB_ECHO_SECRET, type Fault, type StubUpstream } from '../stub-upstream/server.ts';

const KEY_VAR = 'SKILLGATE_STREAM_MASKING_UPSTREAM_KEY';
const SECRET = STUB_ECHO_SECRET;
/** 10-character windows of the secret as JSON text: none may reach the client. */
const LEAKS = fragments(SECRET);

const policies = [
  {
    ...DEFAULT_POLICIES[0],
    grant: { scopes: ['messages:create'], models: ['claude-sonnet-5*'], max_tokens: 4096, tools: { custom: 'allow' }, ttl: '15m' },
  },
];
const ask = { model: 'claude-sonnet-5', max_tokens: 256 };
const say = (content: string) => ({ ...ask, messages: [{ role: 'user' as const, content }] });

let issuer: OidcIssuer;
/** The stub writes each SSE event in its own write, 100 ms apart: every event is its own TCP chunk. */
let stub: StubUpstream;
let broker: TestBroker;
let token: string;
/** A raw upstream that plays whatever `script` says, for the wire shapes the stub does not produce. */
let raw: { url: string; close(): Promise<void> };
let script: (res: ServerResponse) => Promise<void> = async (res) => void res.writeHead(500).end();
let rawBroker: TestBroker;
let rawToken: string;

async function tokenFor(target: TestBroker): Promise<string> {
  const { body } = await target.exchange(await issuer.sign(issuer.githubClaims()));
  return body['access_token'] as string;
}

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stub = await startStubUpstream({ eventDelayMs: 100 });
  raw = await startRawUpstream((res) => script(res));
  process.env[KEY_VAR] = STUB_API_KEY;
  const upstream = { credential: `env:${KEY_VAR}`, response_timeout: '2s' };
  broker = await startBroker({ issuerUrl: issuer.url, policies, config: { upstream: { ...upstream, base_url: stub.url } } });
  rawBroker = await startBroker({ issuerUrl: issuer.url, policies, config: { upstream: { ...upstream, base_url: raw.url } } });
  token = await tokenFor(broker);
  rawToken = await tokenFor(rawBroker);
});
afterAll(async () => {
  await rawBroker.close();
  await broker.close();
  await raw.close();
  await stub.close();
  await issuer.close();
  Reflect.deleteProperty(process.env, KEY_VAR);
});

/** An SDK client whose `fetch` tees every response body into `wire`, so tests see the bytes the SDK parsed. */
function sdk(target: TestBroker, apiKey: string): { client: Anthropic; wire: () => Promise<string> } {
  const reads: Promise<string>[] = [];
  const client = new Anthropic({
    baseURL: target.url,
    apiKey,
    maxRetries: 0,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      reads.push(res.clone().text().catch(() => ''));
      return res;
    },
  });
  return { client, wire: async () => (await Promise.all(reads)).join('') };
}

function post(target: TestBroker, apiKey: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${target.url}/v1/messages`, {
    ...init,
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify(body),
  });
}

const leaksIn = (text: string): string[] => LEAKS.filter((leak) => text.includes(leak));
const textOf = (message: Anthropic.Message): string => message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
const onMessages = (fault: Fault): Fault => ({ method: 'POST', path: '/v1/messages', ...fault });
const MASK = /\[MASKED:[a-z0-9-]+\]/;

describe('M-01 a secret split across TCP chunks', () => {
  it('echo-secret, one event per chunk: the SDK streams the reply and never sees the secret', async () => {
    const { client, wire } = sdk(broker, token);
    const message = await client.messages.stream(say('please echo-secret')).finalMessage();
    expect(textOf(message)).toMatch(/^Here is the value you asked for: \[MASKED:[a-z0-9-]+\] and done\.$/);
    expect(leaksIn(await wire())).toEqual([]);
  });

  it('echo-secret-tool: the secret, JSON-escaped across input_json_delta pieces, is masked in the tool input', async () => {
    const { client, wire } = sdk(broker, token);
    const tools = [{ name: 'record_note', description: 'Records a note.', input_schema: { type: 'object' as const, properties: { note: { type: 'string' } } } }];
    const message = await client.messages.stream({ ...say('echo-secret-tool'), tools }).finalMessage();
    const call = message.content.find((b) => b.type === 'tool_use');
    expect(call?.input).toEqual({ note: expect.stringMatching(new RegExp(`^the key is ${MASK.source}$`)) as unknown });
    expect(leaksIn(await wire())).toEqual([]);
  });

  it('one event cut inside `data:`, at four places inside the secret and inside its blank line', async () => {
    const secretEvent = textDelta(0, `key: ${SECRET} done`);
    const at = secretEvent.indexOf(SECRET.slice(0, 20));
    const cuts = [secretEvent.indexOf('data:') + 2, at + 5, at + 40, at + 80, at + 100, secretEvent.length - 1];
    script = async (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(MESSAGE_START + blockStart(0, { type: 'text', text: '' }));
      for (const piece of chunk(Buffer.from(secretEvent), cuts)) {
        res.write(piece);
        await sleep(20); // a separate socket write, read separately by the broker
      }
      res.end(blockStop(0) + MESSAGE_END);
    };
    const { client, wire } = sdk(rawBroker, rawToken);
    const message = await client.messages.stream(say('hi')).finalMessage();
    expect(textOf(message)).toMatch(new RegExp(`^key: ${MASK.source} done$`));
    expect(leaksIn(await wire())).toEqual([]);
  });
});

describe('M-07 / M-09 other carriers, unknown events and comments', () => {
  const stream = [
    MESSAGE_START,
    `: a comment carrying ${SECRET}\n`,
    blockStart(0, { type: 'text', text: '' }),
    textDelta(0, 'As cited.'),
    sse('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'citations_delta', citation: { type: 'char_location', cited_text: `key ${SECRET}`, document_index: 0, document_title: 'notes', start_char_index: 0, end_char_index: 12 } },
    }),
    blockStop(0),
    sse('agent.status', { type: 'agent.status', detail: { note: `the key is ${SECRET}` } }),
    sse('foo', { type: 'foo', values: [SECRET] }),
    `data: plain text without an event name ${SECRET}\n\n`,
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: SECRET }, usage: { output_tokens: 15 } }),
    sse('message_stop', { type: 'message_stop' }),
  ].join('');

  beforeAll(() => {
    script = async (res) => void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(stream);
  });

  it('no event, name or comment carries the secret, and comment lines are dropped', async () => {
    const res = await post(rawBroker, rawToken, { ...say('hi'), stream: true });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(leaksIn(text)).toEqual([]);
    expect(text.split('\n').filter((line) => line.startsWith(':'))).toEqual([]);
    expect(text).toContain('event: agent.status');
    expect(text.match(new RegExp(MASK.source, 'g'))).toHaveLength(5);
  });

  it('the SDK still parses the stream: citation and stop sequence masked, unknown events tolerated', async () => {
    const { client } = sdk(rawBroker, rawToken);
    const message = await client.messages.stream(say('hi')).finalMessage();
    expect(textOf(message)).toBe('As cited.');
    const block = message.content[0];
    expect(block?.type === 'text' && block.citations?.[0]?.cited_text).toMatch(new RegExp(`^key ${MASK.source}$`));
    expect(message.stop_sequence).toMatch(new RegExp(`^${MASK.source}$`));
  });
});

describe('M-13 compressed upstream', () => {
  it('the broker asks the upstream for identity encoding, whatever the client accepts', async () => {
    const before = stub.requests.length;
    for (const stream of [false, true]) {
      const res = await post(broker, token, { ...say('hello'), stream }, { headers: { 'accept-encoding': 'gzip, br, deflate, zstd' } });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }
    expect(stub.requests.slice(before).map((r) => r.headers['accept-encoding'])).toEqual(['identity', 'identity']);
  });

  /** Plays `body` gzipped despite `accept-encoding: identity`; returns what the client got, as sent and gunzipped. */
  async function gzippedAnyway(type: string, body: string): Promise<{ received: string; inflated: string }> {
    script = async (res) => void res.writeHead(200, { 'content-type': type, 'content-encoding': 'gzip' }).end(gzipSync(body));
    const res = await post(rawBroker, rawToken, { ...say('hi'), stream: type === 'text/event-stream' });
    // fetch decompresses when the broker passes `content-encoding` on; otherwise the client can by hand.
    const received = Buffer.from(await res.arrayBuffer());
    let inflated = '';
    try {
      inflated = gunzipSync(received).toString('utf8');
    } catch {
      // not gzip any more: the broker decoded or replaced it
    }
    return { received: received.toString('utf8'), inflated };
  }

  it('an upstream that gzips an SSE stream anyway gets no secret to the client, compressed or not', async () => {
    const { received, inflated } = await gzippedAnyway('text/event-stream', MESSAGE_START + blockStart(0, { type: 'text', text: '' }) + textDelta(0, `key ${SECRET}`) + blockStop(0) + MESSAGE_END);
    expect(leaksIn(received)).toEqual([]);
    expect(leaksIn(inflated)).toEqual([]);
  });

  // M-13 defence in depth: the broker asks for identity; a reply compressed anyway cannot be read by
  // the masker, so it is refused with 502 instead of being passed through unread.
  it('an upstream that gzips a JSON body anyway gets no secret to the client, compressed or not', async () => {
    const { received, inflated } = await gzippedAnyway('application/json', JSON.stringify({ id: 'msg_01', type: 'message', role: 'assistant', content: [{ type: 'text', text: `key ${SECRET}` }] }));
    expect(leaksIn(received)).toEqual([]);
    expect(leaksIn(inflated)).toEqual([]);
  });
});

describe('M-14 / M-15 abnormal termination while a secret is held back', () => {
  /** Reads `res` until `until` shows up; returns everything read. */
  async function readUntil(res: Response, until: string): Promise<string> {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes(until)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return text;
  }

  it('a client abort aborts the upstream request, and nothing held back had reached the client', async () => {
    const controller = new AbortController();
    const before = stub.requests.length;
    const res = await post(broker, token, { ...say('echo-secret'), stream: true }, { signal: controller.signal });
    // The first text delta ends with the start of the secret: the broker sends its harmless head, holds the rest.
    const received = await readUntil(res, 'Here is the value you asked for: ');
    controller.abort();
    const upstreamCall = stub.requests[before];
    expect(upstreamCall?.path).toBe('/v1/messages');
    await vi.waitFor(() => expect(stub.aborted).toContain(upstreamCall), { timeout: 5_000, interval: 20 });
    expect(received).not.toContain('message_stop');
    expect(leaksIn(received)).toEqual([]);
  });

  it('an upstream reset: the held tail is dropped, the stream ends in event: error, and the SDK throws', async () => {
    // Events: message_start, content_block_start, ping, the delta holding the secret's first third; then a reset.
    stub.injectFault(onMessages({ kind: 'stream-reset', afterEvents: 4 }));
    const res = await post(broker, token, { ...say('echo-secret'), stream: true });
    const text = await res.text();
    expect(text).toContain('Here is the value you asked for: ');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: /);
    expect(text).not.toContain('[MASKED:'); // dropped, not even sent masked
    expect(leaksIn(text)).toEqual([]);

    stub.injectFault(onMessages({ kind: 'stream-reset', afterEvents: 4 }));
    const { client, wire } = sdk(broker, token);
    const error = await client.messages
      .stream(say('echo-secret'))
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(leaksIn(await wire())).toEqual([]);
  });

  it('an upstream that stalls mid-stream past response_timeout (2 s): terminal event: error, held tail dropped', async () => {
    script = async (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(MESSAGE_START + blockStart(0, { type: 'text', text: '' }) + textDelta(0, `Here is the value you asked for: ${SECRET.slice(0, 40)}`));
      await once(res, 'close'); // never another byte: the broker must give up and close the connection
    };
    const res = await post(rawBroker, rawToken, { ...say('hi'), stream: true });
    const text = await res.text();
    expect(text).toContain('Here is the value you asked for: ');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: /);
    expect(text).not.toContain('[MASKED:'); // dropped, not even sent masked
    expect(leaksIn(text)).toEqual([]);
  });

  it('an upstream event: error mid-secret: what was held goes out masked, if at all', async () => {
    stub.injectFault(onMessages({ kind: 'stream-error', afterEvents: 4 }));
    const res = await post(broker, token, { ...say('echo-secret'), stream: true });
    const text = await res.text();
    expect(text).toContain('event: error');
    expect(leaksIn(text)).toEqual([]);
  });

  it('an upstream that ends cleanly mid-secret: what was held goes out masked, if at all', async () => {
    stub.injectFault(onMessages({ kind: 'truncate', afterEvents: 4 }));
    const res = await post(broker, token, { ...say('echo-secret'), stream: true });
    const text = await res.text();
    expect(text).not.toContain('message_stop');
    expect(leaksIn(text)).toEqual([]);
  });
});

describe('M-15 the held-back start of an operator-listed secret (an exact value no built-in rule knows)', () => {
  const OPERATOR_VAR = 'SKILLGATE_STREAM_MASKING_OPERATOR_SECRET';
  // Only the exact-value list knows this one, so nothing but hold-back protects its start: the
  // first text delta ends with its first third (`corp-vault-Q7vL`), which the broker must hold.
  const operatorSecret = 'corp-vault-Q7vLm2Xw9Rt4Kp8Zn3Bc6Hd1Jf5Gs0YaUe';
  const operatorLeaks = fragments(operatorSecret);
  let operatorStub: StubUpstream;
  let operatorBroker: TestBroker;
  let operatorToken: string;

  beforeAll(async () => {
    operatorStub = await startStubUpstream({ echoSecret: operatorSecret });
    process.env[OPERATOR_VAR] = operatorSecret;
    operatorBroker = await startBroker({
      issuerUrl: issuer.url,
      policies,
      config: { upstream: { base_url: operatorStub.url, credential: `env:${KEY_VAR}` }, masking: { values: [`env:${OPERATOR_VAR}`] } },
    });
    operatorToken = await tokenFor(operatorBroker);
  });
  afterAll(async () => {
    await operatorBroker.close();
    await operatorStub.close();
    Reflect.deleteProperty(process.env, OPERATOR_VAR);
  });

  /** Streams echo-secret with `fault` injected (events before it: message_start, block start, ping, the holding delta). */
  async function streamEndingWith(fault?: Fault): Promise<string> {
    if (fault) operatorStub.injectFault(onMessages(fault));
    const res = await post(operatorBroker, operatorToken, { ...say('echo-secret'), stream: true });
    expect(res.status).toBe(200);
    return res.text();
  }
  const operatorLeaksIn = (text: string): string[] => operatorLeaks.filter((leak) => text.includes(leak));

  it('a complete stream has the whole secret masked (control)', async () => {
    const text = await streamEndingWith();
    expect(text).toContain('[MASKED:known-secret] and done.');
    expect(operatorLeaksIn(text)).toEqual([]);
  });

  it('a reset after the holding delta: the held start is dropped', async () => {
    const text = await streamEndingWith({ kind: 'stream-reset', afterEvents: 4 });
    expect(text).toContain('event: error');
    expect(operatorLeaksIn(text)).toEqual([]);
  });

  // M-15: an upstream `event: error` ends the message abnormally, so held text is dropped, not flushed.
  it('an upstream event: error after the holding delta: the held start is not flushed ahead of it', async () => {
    const text = await streamEndingWith({ kind: 'stream-error', afterEvents: 4 });
    expect(text).toContain('event: error');
    expect(operatorLeaksIn(text)).toEqual([]);
  });

  // M-15: a body that ends without `message_stop` ended abnormally too: held text is dropped.
  it('an upstream that ends cleanly after the holding delta: the held start is not flushed', async () => {
    const text = await streamEndingWith({ kind: 'truncate', afterEvents: 4 });
    expect(text).not.toContain('message_stop');
    expect(operatorLeaksIn(text)).toEqual([]);
  });
});

/** `startRawUpstream` answers every request with `play` once the request body is read. */
async function startRawUpstream(play: (res: ServerResponse) => Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => void play(res).catch(() => res.destroy()));
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
