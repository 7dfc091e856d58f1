/**
 * Masker throughput: `npx tsx bench/mask.ts`. Prints MB/s (of input, per CPU second) for `maskText` and
 * `maskJsonBody`, and for the stream masker on realistic SSE — one write per event, as the API
 * sends it, and in 16 KiB chunks — next to the SSE decoder alone, for scale. The proxy-level
 * ratio against a bare pass-through comes from the proxy benchmark, not from here.
 */
import { createMasker, createStreamMasker } from '../broker/proxy/mask/index.ts';
import { SseParser } from '../broker/proxy/mask/sse-parser.ts';

const WORDS = (
  'the of and to in is that for it as with was on be by this are from or have an not which but all they ' +
  'function return const await stream token request response skill policy budget approval masking secret ' +
  'sk-learn eyeball Akira github hooks npm pypi AWS S3 bucket 42 3.14 "quoted" (parens) [brackets] {braces} — café'
).split(' ');

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random(1);
const word = (): string => WORDS[Math.floor(next() * WORDS.length)] ?? 'x';
const fakeKey = (): string => `${'sk-ant-'}api03-${'Ab1_-'.repeat(19).slice(0, 93)}AA`;

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** One realistic streamed message: text deltas of 1-4 words, a tool call, a secret every ~300 deltas. */
function message(deltas: number): string[] {
  const events = [
    sse('message_start', { type: 'message_start', message: { id: 'msg_01Bench', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 25, output_tokens: 1 } } }),
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < deltas; i++) {
    let text = Array.from({ length: 1 + Math.floor(next() * 4) }, word).join(' ');
    if (i % 300 === 150) text += ` ${fakeKey()}`;
    events.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ` ${text}` } }));
    if (i % 500 === 0) events.push(sse('ping', { type: 'ping' }));
  }
  events.push(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
  events.push(sse('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01', name: 'run', input: {} } }));
  const args = JSON.stringify({ command: Array.from({ length: 200 }, word).join(' '), env: { TOKEN: fakeKey() } });
  for (let i = 0; i < args.length; i += 12) {
    events.push(sse('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: args.slice(i, i + 12) } }));
  }
  events.push(sse('content_block_stop', { type: 'content_block_stop', index: 1 }));
  events.push(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: deltas } }));
  events.push(sse('message_stop', { type: 'message_stop' }));
  return events;
}

// CPU time, not wall time: on a shared machine other processes would otherwise set the figure.
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function measure(label: string, bytes: number, run: () => void): void {
  run(); // warm up
  let rounds = 0;
  const start = cpuSeconds();
  let elapsed = 0;
  while (elapsed < 1.5) {
    run();
    rounds++;
    elapsed = cpuSeconds() - start;
  }
  const mbps = (bytes * rounds) / elapsed / 1e6;
  console.log(`${label.padEnd(52)} ${mbps.toFixed(1).padStart(8)} MB/s`);
}

// As the broker builds it: the upstream key (with its encodings) and an operator-listed value.
const masker = createMasker({ exactValues: [`${'sk-ant-'}api03-${'Zq9_x'.repeat(19).slice(0, 93)}AA`, 'operator-listed-value-0123456789'] });

const prose = Array.from({ length: 200_000 }, word).join(' ');
measure('maskText, 1 MB of prose (no secret)', Buffer.byteLength(prose), () => masker.maskText(prose));
const dirty = Array.from({ length: 2_000 }, (_, i) => (i % 20 === 0 ? fakeKey() : word())).join(' ');
measure('maskText, prose with a key every 20 words', Buffer.byteLength(dirty), () => masker.maskText(dirty));

const body = Buffer.from(JSON.stringify({ id: 'msg_01', type: 'message', content: [{ type: 'text', text: prose.slice(0, 20_000) }], usage: { input_tokens: 1, output_tokens: 2 } }));
measure('maskJsonBody, 20 kB message (no secret)', body.length, () => masker.maskJsonBody(body));
const dirtyBody = Buffer.from(JSON.stringify({ content: [{ type: 'text', text: dirty }] }));
measure('maskJsonBody, message with keys', dirtyBody.length, () => masker.maskJsonBody(dirtyBody));

const perEvent = message(4_000).map((e) => Buffer.from(e));
const whole = Buffer.concat(perEvent);
const chunks16k: Buffer[] = [];
for (let i = 0; i < whole.length; i += 16_384) chunks16k.push(whole.subarray(i, i + 16_384));
console.log(`\nSSE: ${perEvent.length} events, ${(whole.length / 1e6).toFixed(2)} MB, mean ${Math.round(whole.length / perEvent.length)} B/event`);

measure('SSE decoder alone, one write per event', whole.length, () => {
  const parser = new SseParser();
  for (const c of perEvent) parser.push(c);
});
measure('stream masker, one write per event', whole.length, () => {
  const sm = createStreamMasker(masker);
  for (const c of perEvent) sm.push(c);
  sm.end();
});
measure('stream masker, 16 KiB chunks', whole.length, () => {
  const sm = createStreamMasker(masker);
  for (const c of chunks16k) sm.push(c);
  sm.end();
});

// The proxy benchmark's stream: the stub's `long-stream-N`, 512 characters of plain prose per delta.
const PROSE = 'The release adds scoped credentials for continuous integration, rotates keys without downtime and records every call. ';
const proseDelta = PROSE.repeat(5).slice(0, 512);
const proseEvents = [
  sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ...Array.from({ length: 1000 }, () => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: proseDelta } })),
  sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
  sse('message_stop', { type: 'message_stop' }),
].map((e) => Buffer.from(e));
measure('stream masker, 512-char prose deltas (proxy bench)', Buffer.concat(proseEvents).length, () => {
  const sm = createStreamMasker(masker);
  for (const c of proseEvents) sm.push(c);
  sm.end();
});
