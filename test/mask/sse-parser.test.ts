import { describe, expect, it } from 'vitest';
import { SseParser } from '../../broker/proxy/mask/sse-parser.ts';
import { chunk, sdkRawEvents, seededRandom } from './fixtures.ts';

// The masker must see exactly the events the SDK will see, or a secret can hide in the difference.
// Each input is parsed in every two-chunk split and in random small chunkings, by the module's
// parser and by the SDK's own decoder (`Stream.rawEvents`), and the results must agree.

function parse(chunks: readonly Buffer[]): { event: string | null; data: string }[] {
  const parser = new SseParser();
  const events = [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
  return events.map((e) => ({ event: e.event, data: e.data.join('\n') }));
}

const BOM = '\uFEFF';
const inputs: [string, Buffer][] = [
  ['LF', Buffer.from('event: a\ndata: {"x":1}\n\nevent: b\ndata: 2\n\n')],
  ['CRLF', Buffer.from('event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n')],
  ['CR', Buffer.from('event: a\rdata: 1\r\revent: b\rdata: 2\r\r')],
  ['mixed endings', Buffer.from('event: a\r\ndata: 1\n\revent: b\rdata: 2\n\n')],
  ['a BOM at the start and on a later line', Buffer.from(`${BOM}event: a\ndata: 1\n\n${BOM}event: b\ndata: 2\n\n`)],
  ['comments and unknown fields', Buffer.from(': keep-alive\nevent: a\n: sk-ant-hidden\nfoo: bar\ndata: 1\n\n:\n\n')],
  ['multi-line data and spacing', Buffer.from('event: a\ndata:no-space\ndata:  two spaces\ndata\ndata:\n\n')],
  ['empty names and lone fields', Buffer.from('event:\ndata: x\n\nevent: only-name\n\ndata: only-data\n\nid: 7\nretry: 10\n\n')],
  ['a colon in the value', Buffer.from('event: a\ndata: {"u":"http://x:1"}\n\n')],
  ['an event cut off at the end', Buffer.from('event: a\ndata: 1\n\nevent: b\ndata: 2\n')],
  ['a CR blank line at the very end', Buffer.from('event: a\ndata: 1\r\r')],
  ['multi-byte characters', Buffer.from('event: é\ndata: {"t":"日本語 🎉 ünïcödé"}\n\n')],
  ['invalid UTF-8', Buffer.concat([Buffer.from('event: a\ndata: '), Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from('\n\n')])],
];

describe('SseParser agrees with the SDK decoder', () => {
  it.each(inputs)('on %s, split anywhere in two', async (_, bytes) => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const chunks = chunk(bytes, [cut]);
      expect(parse(chunks), `cut at ${cut}`).toEqual(await sdkRawEvents(chunks));
    }
  });

  it.each(inputs)('on %s, in random small chunks', async (_, bytes) => {
    const random = seededRandom(bytes.length);
    for (let round = 0; round < 50; round++) {
      const cuts: number[] = [];
      for (let at = 1 + Math.floor(random() * 4); at < bytes.length; at += 1 + Math.floor(random() * 6)) cuts.push(at);
      const chunks = chunk(bytes, cuts);
      expect(parse(chunks)).toEqual(await sdkRawEvents(chunks));
    }
  });

  it('keeps id and retry, which the SDK ignores', () => {
    const [event] = new SseParser().push(Buffer.from('id: 42\nretry: 1000\nevent: a\ndata: 1\n\n'));
    expect(event).toEqual({ event: 'a', data: ['1'], id: '42', retry: '1000' });
  });
});
