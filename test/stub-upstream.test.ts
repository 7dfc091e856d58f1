// The stub Anthropic upstream, driven by the real SDK (1.14: Bearer key, version 2026-10-21) and,
// where the wire itself is the point, by raw fetch as older clients speak (x-api-key, 2023-06-01).
import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  toFile,
} from '@anthropic-ai/sdk';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_REPLY,
  STUB_API_KEY,
  STUB_ECHO_SECRET,
  startStubUpstream,
  type RecordedRequest,
  type StubUpstream,
  type StubUpstreamOptions,
} from './stub-upstream/server.ts';

const MODEL = 'claude-sonnet-5';
const SKILL_MD = '---\nname: financial-skill\ndescription: Analyze financial statements\n---\n# Instructions\n';

let stub: StubUpstream;
beforeAll(async () => {
  stub = await startStubUpstream();
});
afterAll(() => stub.close());

function sdk(options: ConstructorParameters<typeof Anthropic>[0] = {}, target: StubUpstream = stub): Anthropic {
  return new Anthropic({ baseURL: target.url, apiKey: STUB_API_KEY, maxRetries: 0, ...options });
}

/** A request as pre-1.0 SDKs and Claude Code send it. */
function legacyFetch(path: string, init: RequestInit = {}, target: StubUpstream = stub): Promise<Response> {
  const headers = { 'x-api-key': STUB_API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...init.headers };
  return fetch(`${target.url}${path}`, { ...init, headers });
}

function lastRequest(path: string, target: StubUpstream = stub): RecordedRequest {
  const found = target.requests.filter((r) => r.path === path).at(-1);
  if (!found) throw new Error(`stub saw no request to ${path}`);
  return found;
}

function eventNames(sse: string): string[] {
  return [...sse.matchAll(/^event: (.+)$/gm)].map((m) => m[1] ?? '');
}

async function withStub<T>(options: StubUpstreamOptions, run: (s: StubUpstream) => Promise<T>): Promise<T> {
  const own = await startStubUpstream(options);
  try {
    return await run(own);
  } finally {
    await own.close();
  }
}

const ask = (text: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({
  model: MODEL,
  max_tokens: 256,
  messages: [{ role: 'user' as const, content: text }],
  ...extra,
});

function skillFiles(dir = 'financial_skill') {
  return Promise.all([toFile(Buffer.from(SKILL_MD), `${dir}/SKILL.md`), toFile(Buffer.from('print("hi")\n'), `${dir}/analyze.py`)]);
}

describe('messages', () => {
  it('answers the default scripted reply and records exactly what the SDK sent', async () => {
    const message = await sdk().messages.create(ask('hello there'));
    expect(message.content).toEqual([{ type: 'text', text: DEFAULT_REPLY, citations: null }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message._request_id).toMatch(/^req_/);

    const seen = lastRequest('/v1/messages');
    expect(seen.headers['authorization']).toBe(`Bearer ${STUB_API_KEY}`);
    expect(seen.headers['anthropic-version']).toBe('2026-10-21');
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual(ask('hello there'));
  });

  it('streams the §3.5 event sequence, with a ping after the first block start', async () => {
    const res = await legacyFetch('/v1/messages', { method: 'POST', body: JSON.stringify({ ...ask('hi'), stream: true }) });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).not.toBeNull();
    const names = eventNames(await res.text());
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('streams the echo secret split across text deltas so no single delta holds it', async () => {
    const stream = sdk().messages.stream(ask('please echo-secret'));
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();
    const text = final.content[0]?.type === 'text' ? final.content[0].text : '';
    expect(text).toContain(STUB_ECHO_SECRET);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.some((d) => d.includes(STUB_ECHO_SECRET))).toBe(false);
    expect(lastRequest('/v1/messages').headers['x-stainless-helper-method']).toBe('stream');
  });

  it('streams the echo secret JSON-escaped across input_json_delta pieces for echo-secret-tool', async () => {
    const stream = sdk().messages.stream(ask('echo-secret-tool'));
    const pieces: string[] = [];
    stream.on('inputJson', (partial) => pieces.push(partial));
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'tool_use', input: { note: `the key is ${STUB_ECHO_SECRET}` } });
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(pieces.some((p) => p.includes(STUB_ECHO_SECRET))).toBe(false);
  });

  it('returns a client tool_use for the first offered tool, streamed as input_json_delta', async () => {
    const tools = [{ name: 'lookup_city', input_schema: { type: 'object' as const, properties: {} } }];
    const final = await sdk().messages.stream(ask('tool-use please', { tools })).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[1]).toMatchObject({ type: 'tool_use', name: 'lookup_city', input: { location: 'San Francisco, CA' } });
  });

  it('runs the server-tool flow with a downloadable file and reports the resolved container', async () => {
    const message = await sdk().messages.create(
      ask('code-exec a budget', {
        tools: [{ type: 'code_execution_20250825', name: 'code_execution' }],
        container: { id: 'container_reused', skills: [{ type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] },
      }),
    );
    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'bash_code_execution_tool_result', 'text']);
    expect(message.container).toMatchObject({ id: 'container_reused', skills: [{ skill_id: 'xlsx', version: '20251013' }] });
    const result = JSON.stringify(message.content[1]);
    const fileId = /"file_id":"(file_[^"]+)"/.exec(result)?.[1] ?? '';
    const download = await sdk().files.download(fileId);
    expect(await download.text()).toBe('stub spreadsheet bytes');

    const streamed = await sdk().messages.stream(ask('code-exec again', { container: 'container_reused' })).finalMessage();
    expect(streamed.content.map((b) => b.type)).toEqual(['server_tool_use', 'bash_code_execution_tool_result', 'text']);
    expect(streamed.container?.id).toBe('container_reused');
  });

  it.each([
    ['refusal', 'refusal'],
    ['pause-turn', 'pause_turn'],
  ])('scripts %s', async (keyword, stopReason) => {
    expect((await sdk().messages.create(ask(keyword))).stop_reason).toBe(stopReason);
  });

  it.each([
    ['a missing max_tokens', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }, BadRequestError, 'max_tokens: Field required'],
    ['an unknown model', { ...ask('x'), model: 'claude-nope' }, NotFoundError, 'model: claude-nope'],
    ['nine skills', { ...ask('x'), tools: [{ type: 'code_execution_20250825', name: 'code_execution' }], container: { skills: Array(9).fill({ type: 'anthropic', skill_id: 'pdf' }) } }, BadRequestError, 'at most 8'],
    ['skills without code execution', { ...ask('x'), container: { skills: [{ type: 'anthropic', skill_id: 'pdf' }] } }, BadRequestError, 'code execution'],
  ])('refuses %s', async (_name, body, errorClass, message) => {
    const error = await sdk().messages.create(body as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect((error as APIError).message).toContain(message);
  });

  it('counts tokens by length', async () => {
    const short = await sdk().messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const long = await sdk().messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'hi '.repeat(200) }] });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
  });

  it('flushes each SSE event separately when an event delay is set (so buffering would show)', async () => {
    await withStub({ eventDelayMs: 100 }, async (slow) => {
      const res = await legacyFetch('/v1/messages', { method: 'POST', body: JSON.stringify({ ...ask('hi'), stream: true }) }, slow);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      expect(eventNames(first)).toEqual(['message_start']);
    });
  });
});

describe('models', () => {
  it('lists every model across pages and retrieves one by id', async () => {
    const ids: string[] = [];
    for await (const model of sdk().models.list({ limit: 2 })) ids.push(model.id);
    expect(ids).toContain(MODEL);
    expect(ids.length).toBeGreaterThan(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await sdk().models.retrieve(MODEL)).display_name).toBe('Claude Sonnet 5');
  });
});

describe('skills', () => {
  it('creates, lists and deletes a GA skill; refuses to delete it while versions exist', async () => {
    const client = sdk();
    const skill = await client.skills.create({ files: await skillFiles(), display_name: 'Financial Analysis' });
    expect(skill).toMatchObject({ display_name: 'Financial Analysis', source: { type: 'custom' } });
    const parts = lastRequest('/v1/skills').parts;
    expect(parts).toEqual([
      { name: 'files[]', filename: 'financial_skill/SKILL.md', size: SKILL_MD.length },
      { name: 'files[]', filename: 'financial_skill/analyze.py', size: 12 },
      { name: 'display_name', size: 18 },
    ]);

    const listed: string[] = [];
    for await (const s of client.skills.list({ source: 'custom' })) listed.push(s.id);
    expect(listed).toContain(skill.id);

    await expect(client.skills.delete(skill.id)).rejects.toBeInstanceOf(BadRequestError);
    const version = await client.skills.versions.retrieve(skill.latest_version_id, { skill_id: skill.id });
    expect(version).toMatchObject({ name: 'financial-skill', description: 'Analyze financial statements' });
    await client.skills.versions.delete(version.id, { skill_id: skill.id });
    expect(await client.skills.delete(skill.id)).toEqual({ id: skill.id, type: 'skill_deleted' });
    await expect(client.skills.retrieve(skill.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists the seeded Anthropic skills through the beta client', async () => {
    const page = await sdk().beta.skills.list({ source: 'anthropic', betas: ['skills-2025-10-02'] });
    expect(page.data.map((s) => s.id).sort()).toEqual(['docx', 'pdf', 'pptx', 'xlsx']);
  });

  it('answers ?beta=true with the legacy field names and serves the version as a zip', async () => {
    const client = sdk();
    const created = (await client.beta.skills.create(
      { files: await skillFiles('legacy'), betas: ['skills-2025-10-02'], display_title: 'Legacy' } as Anthropic.Beta.Skills.SkillCreateParams,
      { query: { beta: 'true' } },
    )) as unknown as Record<string, unknown>;
    expect(created).toMatchObject({ display_title: 'Legacy', source: 'custom', latest_version: expect.stringMatching(/^\d{16}$/) });
    expect(created).not.toHaveProperty('display_name');
    expect(lastRequest('/v1/skills').headers['anthropic-beta']).toBe('skills-2025-10-02');

    const zip = await client.beta.skills.versions.download(String(created['latest_version']), { skill_id: String(created['id']) });
    const bytes = Buffer.from(await zip.arrayBuffer());
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    expect(bytes.includes(Buffer.from('legacy/SKILL.md'))).toBe(true);
  });

  it('refuses an upload whose SKILL.md is not directly under one top-level folder', async () => {
    const files = [await toFile(Buffer.from(SKILL_MD), 'SKILL.md')];
    const error = await sdk().skills.create({ files }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as APIError).message).toContain('SKILL.md must be exactly in the top-level folder');
  });

  it('in beta mode requires the skills beta header', async () => {
    await withStub({ mode: 'beta' }, async (beta) => {
      await expect(sdk({}, beta).skills.list()).rejects.toBeInstanceOf(BadRequestError);
      const page = await sdk({}, beta).beta.skills.list({ betas: ['skills-2025-10-02'] });
      expect(page.data.length).toBe(4);
    });
  });
});

describe('files', () => {
  it('uploads, lists, reads metadata and deletes; uploads are not downloadable', async () => {
    const client = sdk();
    const file = await client.files.upload({ file: await toFile(Buffer.from('hello file'), 'notes.txt', { type: 'text/plain' }) });
    expect(file).toMatchObject({ filename: 'notes.txt', size_bytes: 10, mime_type: 'text/plain', downloadable: false });
    expect(lastRequest('/v1/files').parts).toEqual([{ name: 'file', filename: 'notes.txt', size: 10 }]);

    const listed: string[] = [];
    for await (const f of client.files.list()) listed.push(f.id);
    expect(listed).toContain(file.id);
    expect((await client.files.retrieveMetadata(file.id)).filename).toBe('notes.txt');
    await expect(client.files.download(file.id)).rejects.toBeInstanceOf(BadRequestError);

    await client.files.delete(file.id);
    await expect(client.files.retrieveMetadata(file.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('batches', () => {
  it('holds a batch in progress until ended, then serves JSONL from the public results_url', async () => {
    await withStub({ publicBaseUrl: 'http://proxy.invalid' }, async (own) => {
      const client = sdk({}, own);
      const batch = await client.messages.batches.create({ requests: [{ custom_id: 'r1', params: ask('hello') }] });
      expect(batch).toMatchObject({ processing_status: 'in_progress', results_url: null, request_counts: { processing: 1 } });
      own.endBatches();
      const ended = await client.messages.batches.retrieve(batch.id);
      expect(ended.results_url).toBe(`http://proxy.invalid/v1/messages/batches/${batch.id}/results`);
      expect(ended.request_counts.succeeded).toBe(1);

      const res = await legacyFetch(`/v1/messages/batches/${batch.id}/results`, {}, own);
      const line = JSON.parse((await res.text()).trim());
      expect(line).toMatchObject({ custom_id: 'r1', result: { type: 'succeeded', message: { content: [{ text: DEFAULT_REPLY }] } } });
    });
  });
});

describe('auth and versions', () => {
  it('surfaces a wrong key as AuthenticationError with the API wording', async () => {
    const error = await sdk({ apiKey: 'sk-ant-api03-wrong' }).models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  });

  it('follows key rotation', async () => {
    await withStub({}, async (own) => {
      own.setApiKeys(['sk-ant-api03-rotated']);
      await expect(sdk({}, own).models.list()).rejects.toBeInstanceOf(AuthenticationError);
      await expect(sdk({ apiKey: 'sk-ant-api03-rotated' }, own).models.list()).resolves.toBeDefined();
    });
  });

  it('refuses a request that also carries a foreign credential in the other header', async () => {
    const res = await legacyFetch('/v1/models', { headers: { authorization: 'Bearer sgt_broker_token' } });
    expect(res.status).toBe(401);
  });

  it('accepts OAuth bearer tokens only in allowBearer mode', async () => {
    const oauth = { authorization: 'Bearer sk-ant-oat01-anything', 'anthropic-version': '2023-06-01' };
    expect((await fetch(`${stub.url}/v1/models`, { headers: oauth })).status).toBe(401);
    await withStub({ allowBearer: true }, async (own) => {
      expect((await fetch(`${own.url}/v1/models`, { headers: oauth })).status).toBe(200);
    });
  });

  it('accepts the legacy x-api-key + 2023-06-01 client and requires anthropic-version', async () => {
    expect((await legacyFetch('/v1/models')).status).toBe(200);
    const res = await fetch(`${stub.url}/v1/models`, { headers: { 'x-api-key': STUB_API_KEY } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
  });

  it('records bracketed query arrays in both spellings and repeated headers as arrays', async () => {
    // fetch folds repeated headers into one; node:http sends an array value as repeated lines.
    const headers = { 'x-api-key': STUB_API_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': ['x-1', 'y-2'] };
    await new Promise<void>((resolve, reject) => {
      request(`${stub.url}/v1/files?ids[]=a&ids%5B%5D=b&beta=true`, { headers }, (res) => res.resume().on('end', resolve))
        .on('error', reject)
        .end();
    });
    const seen = lastRequest('/v1/files');
    expect(seen.query).toBe('ids[]=a&ids%5B%5D=b&beta=true');
    expect(seen.parsedQuery).toEqual({ ids: ['a', 'b'], beta: 'true' });
    expect(seen.headers['anthropic-beta']).toEqual(['x-1', 'y-2']);
  });
});

describe('faults', () => {
  it('fails the next matching request with a queued 529, once', async () => {
    stub.injectFault({ kind: 'status', status: 529, path: '/v1/messages' });
    const error = await sdk().messages.create(ask('hi')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).status).toBe(529);
    await expect(sdk().messages.create(ask('hi'))).resolves.toMatchObject({ stop_reason: 'end_turn' });
  });

  it('lets the SDK retry past a queued fault', async () => {
    stub.injectFault({ kind: 'status', status: 500, path: '/v1/models/claude-opus-5' });
    await expect(sdk({ maxRetries: 1 }).models.retrieve('claude-opus-5')).resolves.toMatchObject({ id: 'claude-opus-5' });
    const attempts = stub.requests.filter((r) => r.path === '/v1/models/claude-opus-5');
    expect(attempts.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });

  it('takes a fault from the x-stub-fault header: 429 with retry-after 0 and x-should-retry', async () => {
    const res = await legacyFetch('/v1/models', { headers: { 'x-stub-fault': '429; should-retry=false' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('0');
    expect(res.headers.get('x-should-retry')).toBe('false');
    const error = await sdk({ defaultHeaders: { 'x-stub-fault': '429' } }).models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
  });

  it('resets the connection', async () => {
    stub.injectFault({ kind: 'reset', method: 'GET', path: '/v1/models' });
    await expect(sdk().models.list()).rejects.toBeInstanceOf(APIConnectionError);
  });

  it('delays the first byte past a client timeout', async () => {
    const slow = sdk({ timeout: 100, defaultHeaders: { 'x-stub-fault': 'slow-first-byte=1000' } });
    await expect(slow.models.list()).rejects.toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('sends a mid-stream error event that the SDK raises', async () => {
    stub.injectFault({ kind: 'stream-error', path: '/v1/messages' });
    const error = await sdk().messages.stream(ask('hi')).finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toMatchObject({ error: { type: 'overloaded_error' } });
  });

  it('truncates a stream before message_stop', async () => {
    const res = await legacyFetch('/v1/messages', {
      method: 'POST',
      headers: { 'x-stub-fault': 'truncate' },
      body: JSON.stringify({ ...ask('hi'), stream: true }),
    });
    const names = eventNames(await res.text());
    expect(names).toContain('message_delta');
    expect(names).not.toContain('message_stop');
  });
});
