import { describe, expect, it } from 'vitest';
import { createMasker, createStreamMasker, maskMarker } from '../../broker/proxy/mask/index.ts';
import {
  accumulate,
  blockStart,
  blockStop,
  MESSAGE_END,
  MESSAGE_START,
  parseEvents,
  runMasker,
  sdkFinalMessage,
  secretSamples,
  sse,
  textDelta,
  textMessage,
} from './fixtures.ts';

const { samples, exactValue } = secretSamples();
const masker = createMasker({ exactValues: [exactValue] });
const apiKey = samples.find((s) => s.rule === 'anthropic-api-key')?.text ?? '';
const API = maskMarker('anthropic-api-key');

const mask = (stream: string | readonly string[], m = masker): string => runMasker(createStreamMasker(m), typeof stream === 'string' ? [stream] : stream).toString();

describe('a stream with nothing to mask', () => {
  // Literal streams A-D of anthropic-api.md §3.5: the masker must be invisible on them.
  const toolUse =
    MESSAGE_START +
    blockStart(0, { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: {} }) +
    sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } }) +
    sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"location": "San Francisco' } }) +
    sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: ', CA", "days": [1, 2]}' } }) +
    blockStop(0) +
    MESSAGE_END;
  const serverTool =
    MESSAGE_START +
    blockStart(0, {
      type: 'bash_code_execution_tool_result',
      tool_use_id: 'srvtoolu_01',
      content: { type: 'bash_code_execution_result', stdout: 'wrote budget.xlsx\n', stderr: '', return_code: 0, content: [] },
    }) +
    blockStop(0) +
    MESSAGE_END;
  const midStreamError = MESSAGE_START + 'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n';

  it.each([
    ['text', textMessage(['Hello', '!'])],
    ['tool use', toolUse],
    ['a server tool result', serverTool],
    ['a mid-stream error', midStreamError],
  ])('passes %s through byte for byte', (_, stream) => {
    expect(mask(stream)).toBe(stream);
  });

  it('sends an untouched chunk of whole events as the very bytes that came in, and rewrites any other', () => {
    const streamMasker = createStreamMasker(masker);
    const plain = Buffer.from(textMessage(['Hello', '!']));
    expect(streamMasker.push(plain)).toBe(plain);
    const commented = Buffer.from(': keep-alive\nevent: ping\ndata: {"type": "ping"}\n\n');
    const out = streamMasker.push(commented);
    expect(out).not.toBe(commented);
    expect(out.toString()).toBe('event: ping\ndata: {"type": "ping"}\n\n');
  });

  it('drops comments and keeps id and retry', () => {
    expect(mask(': keep-alive\nid: 1\nretry: 500\nevent: ping\ndata: {"type": "ping"}\n\n')).toBe('event: ping\nid: 1\nretry: 500\ndata: {"type": "ping"}\n\n');
  });

  it('writes LF line endings whatever the upstream used, and keeps multi-line data lines', () => {
    expect(mask('event: x\r\ndata: a\r\ndata: b\r\n\r\n')).toBe('event: x\ndata: a\ndata: b\n\n');
  });
});

describe('hold-back', () => {
  it('holds only a tail that could start a secret, and sends it with the next delta', () => {
    const out = parseEvents(Buffer.from(mask(textMessage(['We chose sk', '-learn.']))));
    const texts = out.filter((e) => e.event === 'content_block_delta').map((e) => (e.data as { delta: { text: string } }).delta.text);
    expect(texts).toEqual(['We chose ', 'sk-learn.']);
  });

  it('sends a wholly held delta not at all, and the rest before content_block_stop', () => {
    const events = parseEvents(Buffer.from(mask(textMessage(['key: ', 'sk-ant-', 'api03']))));
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(accumulate(events)[0]?.text).toBe('key: sk-ant-api03');
  });

  it('releases held text, masked as final, when a block or message completes without a stop', () => {
    const unstopped = (tail: string) => MESSAGE_START + blockStart(0, { type: 'text', text: '' }) + textDelta(0, tail) + MESSAGE_END;
    expect(accumulate(parseEvents(Buffer.from(mask(unstopped('tail sk-ant-api0')))))[0]?.text).toBe('tail sk-ant-api0');
    // Cut short, the key is still one by the family backstop.
    expect(accumulate(parseEvents(Buffer.from(mask(unstopped(`tail ${apiKey.slice(0, 40)}`)))))[0]?.text).toBe(`tail ${maskMarker('anthropic-token')}`);
  });

  it('drops held text when the upstream body ends before message_stop (security.md M-15)', () => {
    const truncated = MESSAGE_START + blockStart(0, { type: 'text', text: '' }) + textDelta(0, `tail ${exactValue.slice(0, 15)}`);
    const out = mask(truncated);
    expect(out).not.toContain(exactValue.slice(0, 15));
    expect(accumulate(parseEvents(Buffer.from(out)))[0]?.text).toBe('tail ');
  });

  it('masks text carried by content_block_start as the first piece of the block', () => {
    const stream = MESSAGE_START + blockStart(0, { type: 'text', text: `start ${apiKey.slice(0, 50)}` }) + textDelta(0, `${apiKey.slice(50)} end`) + blockStop(0) + MESSAGE_END;
    expect(accumulate(parseEvents(Buffer.from(mask(stream))))[0]?.text).toBe(`start ${API} end`);
  });

  it('sends a candidate that outgrows maxHoldBack masked, even before it is a match (fail closed)', () => {
    const small = createMasker({ maxHoldBack: 256 });
    const run = `AKIA${'Q'.repeat(1000)}`; // an access-key prefix, far too long to be one
    const sm = createStreamMasker(small);
    const outs = [sm.push(Buffer.from(MESSAGE_START + blockStart(0, { type: 'text', text: '' })))];
    let firstMarkerAt = -1;
    for (let i = 0; i < run.length; i += 10) {
      outs.push(sm.push(Buffer.from(textDelta(0, run.slice(i, i + 10)))));
      if (firstMarkerAt === -1 && Buffer.concat(outs).includes(maskMarker('aws-access-key-id'))) firstMarkerAt = i + 10;
    }
    outs.push(sm.push(Buffer.from(textDelta(0, ' after') + blockStop(0) + MESSAGE_END)), sm.end());
    expect(firstMarkerAt).toBeGreaterThan(256);
    expect(firstMarkerAt).toBeLessThanOrEqual(256 + 10);
    expect(accumulate(parseEvents(Buffer.concat(outs)))[0]?.text).toBe(`${maskMarker('aws-access-key-id')} after`);
    expect(small.maskText(`${run} after`).count).toBe(0); // the one place a stream masks more than the whole text
  });

  it('masks a secret that outgrows maxHoldBack once, as soon as it does, and swallows the rest of it', () => {
    const small = createMasker({ maxHoldBack: 256 });
    const long = `sk-ant-oat01-${'z'.repeat(1500)}`;
    const sm = createStreamMasker(small);
    const outs: Buffer[] = [sm.push(Buffer.from(MESSAGE_START + blockStart(0, { type: 'text', text: '' })))];
    for (let i = 0; i < long.length; i += 25) outs.push(sm.push(Buffer.from(textDelta(0, long.slice(i, i + 25)))));
    expect(Buffer.concat(outs).toString()).toContain(maskMarker('anthropic-token')); // before the block ends
    outs.push(sm.push(Buffer.from(textDelta(0, ' after') + blockStop(0) + MESSAGE_END)), sm.end());
    const out = Buffer.concat(outs);
    expect(accumulate(parseEvents(out))[0]?.text).toBe(`${maskMarker('anthropic-token')} after`);
    expect(accumulate(parseEvents(out))[0]?.text).toBe(small.maskText(`${long} after`).text);
    expect(sm.count).toBe(1);
  });

  it('holds a whole window for an operator rule without a literal prefix', () => {
    const windowed = createMasker({ patterns: [{ name: 'ticket', regex: /[0-9]{4}-[0-9]{4}-[0-9]{4}/g }], builtinPatterns: false, maxHoldBack: 256 });
    const pieces = ['card 1234-5', '678-9012 ok'];
    expect(accumulate(parseEvents(Buffer.from(mask(textMessage(pieces), windowed))))[0]?.text).toBe('card [MASKED:ticket] ok');
  });

  it.each([
    ['a derived prefix', /acme_[a-z0-9]{12}/g, ['see acme', '_abc', 'def123456 now'], 'see [MASKED:op] now'],
    ['a case-insensitive prefix', /internal-[a-z]{6}/giu, ['see INTER', 'NAL-ABC', 'DEF now'], 'see [MASKED:op] now'],
    ['a leading \\b that needs the text before the piece', /\bacme-[0-9]{4}/g, ['xacme-12', '34 and acme-', '5678.'], 'xacme-1234 and [MASKED:op].'],
  ])('masks an operator rule with %s across deltas', (_, regex, pieces, expected) => {
    const op = createMasker({ patterns: [{ name: 'op', regex }], builtinPatterns: false });
    expect(accumulate(parseEvents(Buffer.from(mask(textMessage(pieces), op))))[0]?.text).toBe(expected);
    expect(op.maskText(pieces.join('')).text).toBe(expected);
  });

  it('masks a delta that is not in Anthropic\'s exact form, extra fields included', () => {
    const odd = (text: string, extra: unknown) => sse('content_block_delta', { index: 0, type: 'content_block_delta', delta: { text, type: 'text_delta' }, extra });
    const stream = MESSAGE_START + blockStart(0, { type: 'text', text: '' }) + odd(`a ${apiKey.slice(0, 50)}`, 'x') + odd(`${apiKey.slice(50)} b`, { note: apiKey }) + blockStop(0) + MESSAGE_END;
    const out = mask(stream);
    expect(out).not.toContain(apiKey.slice(50, 70));
    expect(accumulate(parseEvents(Buffer.from(out)))[0]?.text).toBe(`a ${API} b`);
  });

  it('uses an exact value added while a stream is running', () => {
    const live = createMasker();
    const value = `late-secret-${'v'.repeat(16)}`;
    const sm = createStreamMasker(live);
    const first = sm.push(Buffer.from(MESSAGE_START + blockStart(0, { type: 'text', text: '' }) + textDelta(0, 'a ')));
    live.addExactValue(value);
    const rest = runMasker(sm, [textDelta(0, value.slice(0, 10)), textDelta(0, `${value.slice(10)} b`), blockStop(0), MESSAGE_END]);
    expect(accumulate(parseEvents(Buffer.concat([first, rest])))[0]?.text).toBe(`a ${maskMarker('known-secret')} b`);
  });
});

describe('tool input (input_json_delta)', () => {
  const toolStream = (pieces: readonly string[]): string =>
    MESSAGE_START +
    blockStart(0, { type: 'tool_use', id: 'toolu_01', name: 'deploy', input: {} }) +
    pieces.map((p) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: p } })).join('') +
    blockStop(0) +
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }) +
    sse('message_stop', { type: 'message_stop' });

  it('masks a secret split inside a JSON string and inside its escapes, and the SDK parses the input', async () => {
    const input = { env: { TOKEN: apiKey, NOTE: 'say "hi"\n' }, [exactValue]: [1, 2] };
    const json = JSON.stringify(input).replace('sk-ant', '\\u0073k-ant');
    for (const cut of [1, json.indexOf('\\u0073') + 3, json.indexOf('\\"hi') + 1, json.indexOf('api03') + 2, json.length - 2]) {
      const out = runMasker(createStreamMasker(masker), [toolStream(['', json.slice(0, cut), json.slice(cut)])]);
      expect(out.toString()).not.toContain('api03');
      const message = await sdkFinalMessage(out);
      expect(message.content).toEqual([{ type: 'tool_use', id: 'toolu_01', name: 'deploy', input: masker.maskJson(input).value }]);
    }
  });

  it('keeps the structure outside strings untouched, piece by piece', () => {
    const out = parseEvents(Buffer.from(mask(toolStream(['', '{"n": 12', '3, "ok": tr', 'ue}']))));
    const pieces = out.filter((e) => e.event === 'content_block_delta').map((e) => (e.data as { delta: { partial_json: string } }).delta.partial_json);
    expect(pieces).toEqual(['', '{"n": 12', '3, "ok": tr', 'ue}']);
  });
});

describe('other events', () => {
  it('masks every string leaf of message_start, message_delta and unknown events', () => {
    const stream =
      sse('message_start', { type: 'message_start', message: { id: 'msg_1', content: [{ type: 'text', text: apiKey }], usage: {} } }) +
      sse('agent.thought', { type: 'agent.thought', nested: [{ deep: apiKey }] }) +
      sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', container: { id: exactValue } }, usage: { output_tokens: 1 } });
    const events = parseEvents(Buffer.from(mask(stream)));
    expect(events.map((e) => e.event)).toEqual(['message_start', 'agent.thought', 'message_delta']);
    expect(JSON.stringify(events)).not.toContain(apiKey.slice(20, 40));
    expect(JSON.stringify(events)).not.toContain(exactValue);
    expect((events[1]?.data as { nested: { deep: string }[] }).nested[0]?.deep).toBe(API);
  });

  it('masks data that is not JSON as text', () => {
    expect(mask(`event: weird\ndata: not json ${apiKey}\ndata: second line\n\n`)).toBe(`event: weird\ndata: not json ${API}\ndata: second line\n\n`);
  });

  it('counts every replacement', () => {
    const sm = createStreamMasker(masker);
    runMasker(sm, [textMessage([`${apiKey} and ${exactValue}`]), sse('x', { a: apiKey })]);
    expect(sm.count).toBe(3);
  });
});
