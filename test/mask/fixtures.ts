import Anthropic from '@anthropic-ai/sdk';
import { Stream } from '@anthropic-ai/sdk/core/streaming';
import { SseParser } from '../../broker/proxy/mask/sse-parser.ts';
import type { StreamMasker } from '../../broker/proxy/mask/index.ts';

/** A deterministic PRNG (mulberry32), so every run tests the same fake secrets. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fake secret (or the text around one) that a rule must mask. Tokens are assembled at run time so
 * that no string in this repository looks like a live credential to a secret scanner.
 */
export interface SecretSample {
  rule: string;
  /** The text to split and mask: the secret, with its label when the rule needs one. */
  text: string;
  /** The part that must never reach the client. */
  secret: string;
}

/** `secretSamples` returns one sample per built-in rule plus an exact value, all deterministic. */
export function secretSamples(): { samples: SecretSample[]; exactValue: string } {
  const random = seededRandom(0x5eed);
  const pick = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const alnum = (n: number) => pick(ALNUM, n);
  const key = (n: number) => pick(`${ALNUM}_-`, n);
  const b64 = (n: number) => pick(`${ALNUM}+/`, n);
  const digits = (n: number) => pick('0123456789', n);
  const lower = (n: number) => pick('abcdefghijklmnopqrstuvwxyz', n);
  const upper32 = (n: number) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', n);

  const jwt = `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ${key(60)}.${key(43)}`;
  const pem = ['-----BEGIN RSA PRIVATE KEY-----', b64(64), b64(64), b64(40), '-----END RSA PRIVATE KEY-----'].join('\n');
  const awsSecret = b64(40);
  const exactValue = `upstream ${alnum(20)}!`;
  const plain = (rule: string, secret: string): SecretSample => ({ rule, text: secret, secret });
  const samples: SecretSample[] = [
    plain('anthropic-api-key', `sk-ant-${'api03'}-${key(93)}AA`),
    plain('anthropic-admin-key', `sk-ant-${'admin01'}-${key(93)}AA`),
    plain('anthropic-token', `sk-ant-${'oat01'}-${key(40)}`),
    plain('openai-api-key', `sk-${'proj'}-${key(48)}`),
    plain('aws-access-key-id', `${'AK'}IA${upper32(16)}`),
    plain('aws-secret-access-key', `AWS_SECRET_ACCESS_KEY=${awsSecret}`),
    plain('aws-bedrock-key', `AB${'SK'}${b64(120)}`),
    plain('aws-bedrock-short-key', `bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t${b64(40)}`),
    plain('github-pat', `gh${'p'}_${alnum(36)}`),
    plain('github-oauth', `gh${'o'}_${alnum(36)}`),
    plain('github-app-token', `gh${'s'}_${alnum(36)}`),
    plain('github-refresh-token', `gh${'r'}_${alnum(36)}`),
    plain('github-fine-grained-pat', `github_${'pat'}_${alnum(22)}_${alnum(59)}`),
    plain('gitlab-pat', `gl${'pat'}-${key(20)}`),
    plain('slack-bot-token', `xo${'xb'}-${digits(12)}-${digits(13)}-${alnum(24)}`),
    plain('slack-user-token', `xo${'xp'}-${digits(12)}-${digits(12)}-${digits(13)}-${alnum(32)}`),
    plain('slack-app-token', `xa${'pp'}-1-A0${alnum(9)}-${digits(13)}-${lower(64)}`),
    plain('slack-config-token', `xoxe.xo${'xp'}-1-${alnum(165)}`),
    plain('slack-config-refresh-token', `xo${'xe'}-1-${alnum(146)}`),
    plain('slack-token', `xo${'xr'}-${alnum(40)}`),
    { rule: 'slack-webhook-url', text: `https://hooks.slack.com/services/T${alnum(8)}/B${alnum(8)}/${alnum(24)}`, secret: '' },
    plain('stripe-key', `sk_${'live'}_${alnum(24)}`),
    plain('gcp-api-key', `AI${'za'}${key(35)}`),
    plain('huggingface-token', `hf_${pick('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 34)}`),
    plain('npm-token', `np${'m'}_${alnum(36)}`),
    plain('pypi-upload-token', `pypi-AgEIcHlwaS5vcmc${key(60)}`),
    plain('sendgrid-token', `S${'G'}.${key(22)}.${key(43)}`),
    plain('private-key', pem),
    plain('jwt', jwt),
    plain('jwt-base64', Buffer.from(jwt).toString('base64')),
    plain('skillgate-token', `sg${'t'}_${key(43)}`),
    plain('known-secret', exactValue),
  ];
  // The webhook's secret is its path; the scheme is not.
  const webhook = samples.find((s) => s.rule === 'slack-webhook-url');
  if (webhook) webhook.secret = webhook.text.slice('https://'.length);
  return { samples, exactValue };
}

/**
 * `fragments` returns windows of `secret`, as they would appear inside JSON string text on the wire,
 * that must not appear anywhere in masked output.
 */
export function fragments(secret: string, size = 10, stride = 4): string[] {
  const wire = JSON.stringify(secret).slice(1, -1);
  const out: string[] = [];
  for (let i = 0; i + size <= wire.length; i += stride) out.push(wire.slice(i, i + size));
  return out;
}

/** One SSE event in Anthropic's wire form. */
export function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export const MESSAGE_START = sse('message_start', {
  type: 'message_start',
  message: {
    id: 'msg_01Mask0000000000000000001',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 25, output_tokens: 1 },
  },
});

export const MESSAGE_END =
  sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 15 } }) +
  sse('message_stop', { type: 'message_stop' });

export function textDelta(index: number, text: string): string {
  return sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
}

export function blockStart(index: number, block: unknown): string {
  return sse('content_block_start', { type: 'content_block_start', index, content_block: block });
}

export function blockStop(index: number): string {
  return sse('content_block_stop', { type: 'content_block_stop', index });
}

/** A whole one-block text message whose text arrives as `pieces`, one delta each (with a ping in between). */
export function textMessage(pieces: readonly string[]): string {
  return (
    MESSAGE_START +
    blockStart(0, { type: 'text', text: '' }) +
    sse('ping', { type: 'ping' }) +
    pieces.map((p) => textDelta(0, p)).join('') +
    blockStop(0) +
    MESSAGE_END
  );
}

/** `runMasker` feeds `chunks` through a stream masker and returns everything it sent. */
export function runMasker(masker: StreamMasker, chunks: readonly (string | Buffer)[]): Buffer {
  const out: Buffer[] = [];
  for (const chunk of chunks) out.push(masker.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  out.push(masker.end());
  return Buffer.concat(out);
}

/** `chunk` cuts `bytes` at the given offsets. */
export function chunk(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(bytes.subarray(at, cut));
    at = cut;
  }
  out.push(bytes.subarray(at));
  return out;
}

export interface ParsedEvent {
  event: string | null;
  data: unknown;
}

/** `parseEvents` parses SSE bytes with the module's SDK-equivalent parser and JSON-parses every data payload (throwing if one is not JSON). */
export function parseEvents(bytes: Buffer): ParsedEvent[] {
  const parser = new SseParser();
  return [...parser.push(bytes), ...parser.end()].map((e) => ({ event: e.event, data: JSON.parse(e.data.join('\n')) as unknown }));
}

interface Block {
  type?: string;
  text?: string;
  thinking?: string;
  signature?: string;
  partial_json?: string;
  [key: string]: unknown;
}

/**
 * `accumulate` rebuilds content blocks the way the SDK's `MessageStream` does: start with the block
 * from `content_block_start`, append `text_delta` / `thinking_delta` / `input_json_delta` pieces.
 * Tool input stays as the joined `partial_json` text.
 */
export function accumulate(events: readonly ParsedEvent[]): Block[] {
  const blocks: Block[] = [];
  for (const { data } of events) {
    const e = data as { type: string; index: number; content_block: Block; delta: Record<string, string> };
    if (e.type === 'content_block_start') blocks[e.index] = { ...e.content_block };
    if (e.type !== 'content_block_delta') continue;
    const block = blocks[e.index] ?? (blocks[e.index] = {});
    const d = e.delta;
    if (d.type === 'text_delta') block.text = (block.text ?? '') + (d.text ?? '');
    if (d.type === 'thinking_delta') block.thinking = (block.thinking ?? '') + (d.thinking ?? '');
    if (d.type === 'input_json_delta') block.partial_json = (block.partial_json ?? '') + (d.partial_json ?? '');
    if (d.type === 'signature_delta') block.signature = d.signature ?? '';
  }
  return blocks;
}

function responseOf(chunks: readonly Buffer[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new Uint8Array(c));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'request-id': 'req_mask_test' } });
}

/** `sdkRawEvents` parses bytes, in the given chunks, with the SDK's own SSE decoder. */
export async function sdkRawEvents(chunks: readonly Buffer[]): Promise<{ event: string | null; data: string }[]> {
  const out: { event: string | null; data: string }[] = [];
  for await (const e of Stream.rawEvents(responseOf(chunks))) out.push({ event: e.event, data: e.data });
  return out;
}

/** `sdkFinalMessage` lets the real SDK client consume `bytes` as a `messages.stream()` response and returns its final message. */
export async function sdkFinalMessage(bytes: Buffer): Promise<Anthropic.Message> {
  const client = new Anthropic({
    apiKey: 'test-key-not-used',
    baseURL: 'http://upstream.invalid',
    maxRetries: 0,
    fetch: async () => responseOf([bytes]),
  });
  return client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
}
