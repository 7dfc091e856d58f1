import type { Readable } from 'node:stream';
import { PassThrough, Transform } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Dispatcher } from 'undici';
import { responseHeaders } from './forward.ts';
import type { Masker } from './mask/masker.ts';
import { createStreamMasker } from './mask/mask-stream.ts';
import type { OpenStreams } from './open-streams.ts';

/** Largest non-streaming upstream body the proxy buffers to mask (JSON bodies are far smaller). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

const SSE_ERROR = 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"the upstream stream ended unexpectedly"}}\n\n';

export interface Relayed {
  /** Secrets replaced in what the caller received. */
  masked(): number;
}

/**
 * `relayMasked` is the proxy's last stage: it sends the upstream response to the caller with
 * every secret masked. SSE is relayed event by event as it arrives (the masker holds back only a
 * bounded tail that could be the start of a secret); JSON and text bodies are masked whole;
 * binary downloads pass through. `rewrite` lets batch responses point results_url at the proxy.
 */
export async function relayMasked(reply: FastifyReply, upstream: Dispatcher.ResponseData, masker: Masker, streams: OpenStreams, rewrite?: (body: unknown) => unknown): Promise<Relayed> {
  const headers = responseHeaders(upstream.headers);
  const type = headers['content-type'] ?? '';
  reply.status(upstream.statusCode).headers(headers);

  if (type.startsWith('text/event-stream')) {
    const streamMasker = createStreamMasker(masker);
    const mask = new Transform({
      transform: (chunk: Buffer, _enc, done) => done(null, streamMasker.push(chunk)),
      flush: (done) => done(null, streamMasker.end()),
    });
    const out = new PassThrough();
    // Ending early (upstream failure, shutdown) drops the masker's held-back tail: it is never flushed raw.
    const endWithError = () => {
      mask.unpipe(out);
      upstream.body.destroy();
      if (!out.writableEnded) out.end(SSE_ERROR);
    };
    upstream.body.on('error', endWithError);
    upstream.body.pipe(mask).pipe(out);
    const unregister = streams.add(endWithError);
    out.once('close', unregister);
    reply.header('cache-control', 'no-cache');
    void reply.send(out);
    return { masked: () => streamMasker.count };
  }

  if (type.startsWith('application/json') || type.startsWith('text/')) {
    const raw = await readCapped(upstream.body);
    if (type.startsWith('application/json')) {
      const { body, count } = masker.maskJsonBody(raw);
      void reply.send(rewrite ? Buffer.from(JSON.stringify(rewrite(JSON.parse(body.toString('utf8'))))) : body);
      return { masked: () => count };
    }
    const { text, count } = masker.maskText(raw.toString('utf8'));
    void reply.send(text);
    return { masked: () => count };
  }

  void reply.send(upstream.body);
  return { masked: () => 0 };
}

async function readCapped(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BUFFERED_BYTES) throw new Error('upstream body too large to mask');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
