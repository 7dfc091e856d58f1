import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { createMasker, createStreamMasker, maskMarker } from '../../broker/proxy/mask/index.ts';
import {
  accumulate,
  blockStart,
  blockStop,
  chunk,
  fragments,
  MESSAGE_END,
  MESSAGE_START,
  parseEvents,
  runMasker,
  sdkFinalMessage,
  sdkRawEvents,
  secretSamples,
  seededRandom,
  sse,
  textDelta,
  textMessage,
} from '../mask/fixtures.ts';

// security.md §C.3: response-masking bypasses, played against the stream and body maskers with
// no HTTP in between. Upstream bytes are fed in arbitrary chunkings; the output must stay a valid
// event stream (the SDK's decoder and JSON.parse accept every event) and must not carry a secret.

const { samples, exactValue } = secretSamples();
const masker = createMasker({ exactValues: [exactValue] });
const secret = (rule: string): string => samples.find((s) => s.rule === rule)?.text ?? '';
const apiKey = secret('anthropic-api-key');
const ghToken = secret('github-pat');
const jwt = secret('jwt');
const API = maskMarker('anthropic-api-key');
const KNOWN = maskMarker('known-secret');

const delta = (index: number, type: string, field: string, value: string): string =>
  sse('content_block_delta', { type: 'content_block_delta', index, delta: { type, [field]: value } });

/** Everything that must not reach the client, as it would look inside JSON. */
const leaks = [...fragments(apiKey), ...fragments(ghToken), ...fragments(jwt), ...fragments(exactValue, 8, 2)];

function expectNoLeak(out: Buffer | string): void {
  const text = out.toString();
  expect(leaks.filter((leak) => text.includes(leak))).toEqual([]);
}

describe('M-01 a secret split across TCP chunks', () => {
  // Secrets in a text delta (next to multi-byte characters), in tool input, and in a result block.
  const stream =
    MESSAGE_START +
    blockStart(0, { type: 'text', text: '' }) +
    textDelta(0, `Schlüssel → ${apiKey} ✓ and ${exactValue}`) +
    blockStop(0) +
    blockStart(1, { type: 'tool_use', id: 'toolu_01', name: 'run', input: {} }) +
    delta(1, 'input_json_delta', 'partial_json', JSON.stringify({ token: ghToken })) +
    blockStop(1) +
    blockStart(2, { type: 'bash_code_execution_tool_result', tool_use_id: 'srvtoolu_01', content: { type: 'bash_code_execution_result', stdout: `JWT=${jwt}\n`, stderr: '', return_code: 0 } }) +
    blockStop(2) +
    MESSAGE_END;
  const bytes = Buffer.from(stream);
  const expectedText = masker.maskText(`Schlüssel → ${apiKey} ✓ and ${exactValue}`).text;

  function check(chunks: readonly Buffer[]): void {
    const out = runMasker(createStreamMasker(masker), chunks);
    expectNoLeak(out);
    const blocks = accumulate(parseEvents(out)); // throws if any data line is not JSON
    expect(blocks[0]?.text).toBe(expectedText);
    expect(JSON.parse(blocks[1]?.partial_json ?? '')).toEqual({ token: maskMarker('github-pat') });
    expect(JSON.stringify(blocks[2])).toContain(`JWT=${maskMarker('jwt')}`);
  }

  it('at every byte position (inside the secret, inside `data:`, inside the blank line)', () => {
    for (let cut = 1; cut < bytes.length; cut++) check(chunk(bytes, [cut]));
  });

  it('in random chunkings, down to single bytes', async () => {
    const random = seededRandom(101);
    for (let round = 0; round < 200; round++) {
      const cuts: number[] = [];
      for (let at = 1; at < bytes.length; at += 1 + Math.floor(random() * (round < 20 ? 2 : 64))) cuts.push(at);
      check(chunk(bytes, cuts));
    }
    const singleBytes = runMasker(createStreamMasker(masker), chunk(bytes, [...bytes.keys()].slice(1)));
    expect(await sdkRawEvents(chunk(singleBytes, [7, 100, 101]))).toHaveLength(parseEvents(singleBytes).length);
  });
});

describe('M-02 a secret split across content_block_delta events', () => {
  // anthropic-api.md §3.5 stream E, assembled at run time.
  const key = ['sk-ant-', 'api03-', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_'.repeat(2), 'AbCdEfGhIjKlMnOpQ', 'AA'].join('');
  const pieces = [`key is ${key.slice(0, 21)}`, key.slice(21, 91), `${key.slice(91)} and done`];

  it('masks stream E, which a per-event regex misses', async () => {
    expect(key).toHaveLength(108);
    expect(pieces.map((p) => masker.maskText(p).count)).toEqual([0, 0, 0]); // event by event, nothing looks like a key
    const out = runMasker(createStreamMasker(masker), [textMessage(pieces)]);
    expect(out.toString()).not.toContain('QrStUvWxYz');
    const message = await sdkFinalMessage(out);
    expect(message.content).toEqual([{ type: 'text', text: `key is ${API} and done` }]);
  });
});

describe('M-03 interleaved blocks', () => {
  it('keeps one buffer per block, so each block\'s split secret is masked', () => {
    const stream =
      MESSAGE_START +
      blockStart(0, { type: 'text', text: '' }) +
      blockStart(1, { type: 'text', text: '' }) +
      textDelta(0, `a ${apiKey.slice(0, 30)}`) +
      textDelta(1, `b ${ghToken.slice(0, 12)}`) +
      textDelta(0, `${apiKey.slice(30)} a`) +
      textDelta(1, `${ghToken.slice(12)} b`) +
      blockStop(0) +
      blockStop(1) +
      MESSAGE_END;
    const out = runMasker(createStreamMasker(masker), [stream]);
    expectNoLeak(out);
    expect(accumulate(parseEvents(out)).map((b) => b.text)).toEqual([`a ${API} a`, `b ${maskMarker('github-pat')} b`]);
  });

  it('does not join a secret deliberately split across two blocks (documented residual risk)', () => {
    const half = apiKey.length / 2;
    const stream =
      MESSAGE_START +
      blockStart(0, { type: 'text', text: '' }) +
      blockStart(1, { type: 'text', text: '' }) +
      textDelta(0, `x ${apiKey.slice(0, 10)}`) +
      textDelta(1, `${apiKey.slice(half)} y`) +
      blockStop(0) +
      blockStop(1) +
      MESSAGE_END;
    // Neither half is a secret on its own; the client also sees two separate strings.
    expect(accumulate(parseEvents(runMasker(createStreamMasker(masker), [stream]))).map((b) => b.text)).toEqual([
      `x ${apiKey.slice(0, 10)}`,
      `${apiKey.slice(half)} y`,
    ]);
  });
});

describe('M-06 thinking and signatures', () => {
  const signature = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' + '/+='.repeat(4);
  const stream =
    MESSAGE_START +
    blockStart(0, { type: 'thinking', thinking: '', signature: '' }) +
    delta(0, 'thinking_delta', 'thinking', `The user pasted ${apiKey.slice(0, 50)}`) +
    delta(0, 'thinking_delta', 'thinking', apiKey.slice(50, 105)) +
    delta(0, 'signature_delta', 'signature', signature) +
    blockStop(0) +
    MESSAGE_END;

  it('masks thinking text, flushes it before the signature, and never touches the signature', async () => {
    const out = runMasker(createStreamMasker(masker), [stream]);
    expectNoLeak(out);
    const types = parseEvents(out).map((e) => (e.data as { delta?: { type: string } }).delta?.type).filter(Boolean);
    expect(types.at(-1)).toBe('signature_delta');
    expect(out.toString()).toContain(JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature } }));
    const message = await sdkFinalMessage(out);
    // A masked thinking block fails its signature check if echoed back: the price of not leaking it.
    expect(message.content).toEqual([{ type: 'thinking', thinking: `The user pasted ${maskMarker('anthropic-token')}`, signature }]);
  });
});

describe('M-07 other carriers', () => {
  it('masks citations, server tool results, message_delta and unknown agent/session events', () => {
    const stream =
      MESSAGE_START +
      blockStart(0, { type: 'text', text: '', citations: null }) +
      sse('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'citations_delta', citation: { type: 'char_location', cited_text: `token ${ghToken}`, document_index: 0, start_char_index: 0, end_char_index: 9 } },
      }) +
      blockStop(0) +
      blockStart(1, { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_02', content: { type: 'web_fetch_result', url: 'https://x.test', content: { type: 'document', source: { type: 'text', data: `cfg: ${jwt}` } } } }) +
      blockStop(1) +
      sse('session.status_idle', { type: 'session.status_idle', detail: { note: exactValue } }) +
      sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', container: { id: 'container_1', skills: [{ skill_id: apiKey }] } }, usage: { output_tokens: 3 } }) +
      sse('message_stop', { type: 'message_stop' });
    const out = runMasker(createStreamMasker(masker), [stream]);
    expectNoLeak(out);
    const events = parseEvents(out);
    expect(events.map((e) => e.event)).toEqual(parseEvents(Buffer.from(stream)).map((e) => e.event));
    expect(JSON.stringify(events)).toContain(`token ${maskMarker('github-pat')}`);
    expect(JSON.stringify(events)).toContain(`cfg: ${maskMarker('jwt')}`);
  });
});

describe('M-08 non-streaming bodies', () => {
  it('masks a Messages response body leaf by leaf and keeps it valid', () => {
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'text', text: `Here: ${apiKey}` },
        { type: 'tool_use', id: 'toolu_1', name: 'run', input: { cmd: `curl -H "Authorization: Bearer ${jwt}"` } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 1, output_tokens: 2 },
    };
    const { body, count } = masker.maskJsonBody(Buffer.from(JSON.stringify(message)));
    expect(count).toBe(2);
    expectNoLeak(body);
    expect(JSON.parse(body.toString())).toEqual({
      ...message,
      content: [
        { type: 'text', text: `Here: ${API}` },
        { type: 'tool_use', id: 'toolu_1', name: 'run', input: { cmd: `curl -H "Authorization: Bearer ${maskMarker('jwt')}"` } },
      ],
    });
  });
});

describe('M-09 comments and unknown events', () => {
  it('drops comment lines and masks unknown events', () => {
    const out = runMasker(createStreamMasker(masker), [`: ${apiKey}\n\n` + `event: foo\ndata: {"x":"${ghToken}"}\n\n`]);
    expect(out.toString()).toBe(`event: foo\ndata: {"x":"${maskMarker('github-pat')}"}\n\n`);
  });
});

describe('M-10 encoded known secrets', () => {
  it.each([
    ['base64', Buffer.from(`user:${exactValue}`).toString('base64')],
    ['base64 at another offset', Buffer.from(`u:${exactValue}`).toString('base64')],
    ['base64url', Buffer.from(`x${exactValue}`).toString('base64url')],
    ['URI-encoded', `https://x.test/?k=${encodeURIComponent(exactValue)}`],
    ['hex', Buffer.from(exactValue).toString('hex')],
  ])('masks the value %s, split across events', (_, encoded) => {
    for (const cut of [3, Math.floor(encoded.length / 2), encoded.length - 3]) {
      const out = runMasker(createStreamMasker(masker), [textMessage([`v=${encoded.slice(0, cut)}`, `${encoded.slice(cut)}!`])]);
      const text = accumulate(parseEvents(out))[0]?.text ?? '';
      expect(text).toContain(KNOWN);
      expect(text).toBe(masker.maskText(`v=${encoded}!`).text);
    }
  });
});

describe('M-14 slow client while holding back', () => {
  it('keeps at most maxHoldBack characters per block, failing closed beyond', () => {
    const small = createMasker({ maxHoldBack: 256 });
    const sm = createStreamMasker(small);
    sm.push(Buffer.from(MESSAGE_START + blockStart(0, { type: 'text', text: '' })));
    const candidate = `eyJ${'a'.repeat(2000)}`; // a JWT prefix that never becomes one
    let sentChars = 0;
    let masked = false;
    for (let i = 0; i < candidate.length; i += 50) {
      const out = sm.push(Buffer.from(textDelta(0, candidate.slice(i, i + 50))));
      for (const e of parseEvents(out)) {
        const text = (e.data as { delta: { text: string } }).delta.text;
        if (text.includes(maskMarker('jwt'))) masked = true;
        sentChars += text.length;
      }
      // Everything pushed is either sent, or held (at most maxHoldBack), or went out masked.
      expect(masked || i + 50 - sentChars <= 256).toBe(true);
    }
    expect(masked).toBe(true);
  });
});

describe('M-15 abnormal termination', () => {
  it('never sends held text when the stream is dropped without end()', () => {
    const sm = createStreamMasker(masker);
    const sent = [
      sm.push(Buffer.from(MESSAGE_START + blockStart(0, { type: 'text', text: '' }))),
      sm.push(Buffer.from(textDelta(0, `about to leak ${apiKey.slice(0, 60)}`))),
    ];
    // upstream reset / client abort / token revoked: the proxy drops the masker here.
    expect(Buffer.concat(sent).toString()).not.toContain('sk-ant');
    expect(accumulate(parseEvents(Buffer.concat(sent)))[0]?.text).toBe('about to leak ');
  });
});

describe('C-38 mid-stream error event', () => {
  it('drops held text, masks the error, and the SDK throws it as terminal', async () => {
    const stream =
      MESSAGE_START +
      blockStart(0, { type: 'text', text: '' }) +
      textDelta(0, `partial ${exactValue.slice(0, 15)}`) + // the start of a known secret: no match on its own
      sse('error', { type: 'error', error: { type: 'overloaded_error', message: `Overloaded while holding ${apiKey}` } });
    const out = runMasker(createStreamMasker(masker), [stream]);
    expectNoLeak(out);
    expect(out.toString()).not.toContain(exactValue.slice(0, 15));
    const events = parseEvents(out);
    // "partial " goes out at once; the held start is dropped, not flushed ahead of the error (M-15).
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(accumulate(events)[0]?.text).toBe('partial ');
    const failure = await sdkFinalMessage(out).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect(String((failure as Error).message)).toContain(`Overloaded while holding ${API}`);
  });
});
