import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Dispatcher } from 'undici';
import type { Usage } from '../budgets/budget-gate.ts';
import { responseHeaders } from './forward.ts';
import type { Masker } from './mask/masker.ts';
import { createStreamMasker } from './mask/mask-stream.ts';
import type { OpenStreams } from './open-streams.ts';
import { ProxyError } from './proxy-error.ts';
import { createCapture, usageFromMessage, usageFromSse } from './response-capture.ts';

/** Largest non-streaming upstream body the proxy buffers to mask (JSON bodies are far smaller). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** The terminal event of a stream the broker ends itself: the SDK raises it as an APIError. */
function sseError(type: string, message: string, errorCode: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message, details: { error_code: errorCode } } })}\n\n`;
}

const UPSTREAM_ENDED = sseError('api_error', 'the upstream stream ended unexpectedly', 'upstream_stream_ended');
const SSE_ERRORS: Record<'upstream_error' | 'client_abort' | 'shutdown' | 'revoked', string> = {
  upstream_error: UPSTREAM_ENDED,
  client_abort: UPSTREAM_ENDED, // nobody reads it: the caller is gone
  shutdown: sseError('api_error', 'the broker is shutting down and ended this stream; retry the request', 'broker_shutting_down'),
  revoked: sseError('authentication_error', 'this skillgate token was revoked while the stream was open; the rest of the answer was not sent', 'token_revoked'),
};

/** How a relayed response ended, for the outcome record, budgets and metrics. */
export interface RelayEnd {
  status: number;
  ended: 'complete' | 'client_abort' | 'upstream_error' | 'shutdown' | 'revoked';
  masked: number;
  usage?: Usage;
  /** What the caller saw (masked), capped, for session replay. */
  response?: { body: string; truncated: boolean; stream: boolean };
}

export interface RelayOptions {
  /** Lets batch responses point results_url at the proxy. */
  rewrite?: (body: unknown) => unknown;
  /** How much of the masked response is kept for the audit trail. */
  captureBytes: number;
  /** The caller's token: its open streams end when it is revoked. */
  tokenId: string;
}

/**
 * `relayMasked` is the proxy's last stage: it sends the upstream response to the caller with
 * every secret masked. SSE is relayed event by event as it arrives (the masker holds back only a
 * bounded tail that could be the start of a secret); JSON and text bodies are masked whole;
 * binary downloads pass through. `done` settles when the caller's connection is finished with.
 */
export async function relayMasked(reply: FastifyReply, upstream: Dispatcher.ResponseData, masker: Masker, streams: OpenStreams, opts: RelayOptions): Promise<{ done: Promise<RelayEnd> }> {
  const encoding = upstream.headers['content-encoding'];
  // Masking reads plain text; a compressed body would pass through unread. We asked for identity.
  if (encoding !== undefined && encoding !== 'identity') {
    await upstream.body.dump();
    throw new ProxyError(502, 'api_error', 'upstream_encoding', 'the upstream answered with a compressed body the proxy cannot inspect');
  }
  const headers = responseHeaders(upstream.headers);
  const type = headers['content-type'] ?? '';
  const status = upstream.statusCode;
  reply.status(status).headers(headers);
  const closed = new Promise<boolean>((resolve) => reply.raw.once('close', () => resolve(reply.raw.writableFinished)));

  if (type.startsWith('text/event-stream')) {
    const streamMasker = createStreamMasker(masker);
    const capture = createCapture(opts.captureBytes);
    let ended: RelayEnd['ended'] | undefined;
    // The masker is the stream the caller reads: one hop from upstream to the caller, not two.
    const mask = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        if (ended !== undefined) return done(); // cut off: later upstream bytes are dropped
        const out = streamMasker.push(chunk);
        capture.add(out);
        done(null, out);
      },
      flush: (done) => {
        if (ended !== undefined) return done();
        const out = streamMasker.end();
        capture.add(out);
        done(null, out);
      },
    });
    // Ending early drops the masker's held-back tail (it is never flushed raw) and tells the caller
    // with an SSE error event instead of a silently truncated stream.
    const endWithError = (why: Exclude<RelayEnd['ended'], 'complete'>) => {
      if (ended !== undefined || mask.readableEnded) return;
      ended = why;
      upstream.body.unpipe(mask);
      upstream.body.destroy();
      if (mask.destroyed) return; // the caller is gone: nobody to tell
      mask.push(SSE_ERRORS[why]);
      mask.push(null);
    };
    // The pipeline aborts the upstream call when the caller hangs up: that error is the caller's doing.
    upstream.body.on('error', () => endWithError(reply.raw.destroyed ? 'client_abort' : 'upstream_error'));
    upstream.body.pipe(mask);
    const unregister = streams.add(opts.tokenId, endWithError);
    mask.once('close', unregister);
    reply.raw.once('close', unregister);
    reply.header('cache-control', 'no-cache');
    void reply.send(mask);
    const done = closed.then((finished): RelayEnd => {
      const text = capture.text();
      const usage = usageFromSse(text.head, text.tail);
      return { status, ended: ended ?? (finished ? 'complete' : 'client_abort'), masked: streamMasker.count, ...(usage && { usage }), response: { body: text.head, truncated: text.truncated, stream: true } };
    });
    return { done };
  }

  if (type.startsWith('application/json') || type.startsWith('text/')) {
    const raw = await readCapped(upstream.body);
    let sent: Buffer;
    let masked: number;
    if (type.startsWith('application/json')) {
      const result = masker.maskJsonBody(raw);
      sent = opts.rewrite ? Buffer.from(JSON.stringify(opts.rewrite(JSON.parse(result.body.toString('utf8'))))) : result.body;
      masked = result.count;
    } else {
      const result = masker.maskText(raw.toString('utf8'));
      sent = Buffer.from(result.text);
      masked = result.count;
    }
    void reply.send(sent);
    const text = sent.subarray(0, opts.captureBytes).toString('utf8');
    const done = closed.then((finished): RelayEnd => {
      const usage = type.startsWith('application/json') ? usageFromMessage(sent) : undefined;
      return { status, ended: finished ? 'complete' : 'client_abort', masked, ...(usage && { usage }), response: { body: text, truncated: sent.length > opts.captureBytes, stream: false } };
    });
    return { done };
  }

  void reply.send(upstream.body);
  return { done: closed.then((finished): RelayEnd => ({ status, ended: finished ? 'complete' : 'client_abort', masked: 0 })) };
}

async function readCapped(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BUFFERED_BYTES) throw new ProxyError(502, 'api_error', 'upstream_body_too_large', 'the upstream answer is too large for the proxy to inspect');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
