import type { FastifyRequest } from 'fastify';
import { parseJsonBody } from './guard.ts';
import type { ClassifiedRequest } from './operation.ts';
import { invalidProxyRequest, ProxyError } from './proxy-error.ts';

export interface RequestBody {
  raw: Buffer | undefined;
  json: Record<string, unknown> | undefined;
  uploads: { name: string; filename?: string; size: number }[] | undefined;
  betas: string[];
}

/**
 * `readRequestBody` reads what the route takes and nothing else: a strict JSON object, a
 * multipart upload summarised part by part (so guard can inspect names and sizes), or no body.
 * Compressed request bodies are refused rather than inflated.
 */
export async function readRequestBody(request: FastifyRequest, route: ClassifiedRequest, limit: number): Promise<RequestBody> {
  const betas = headerList(request.headers['anthropic-beta']);
  const raw = Buffer.isBuffer(request.body) ? request.body : undefined;
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    throw new ProxyError(415, 'invalid_request_error', 'content_encoding_not_allowed', 'send the request body uncompressed (Content-Encoding: identity)');
  }
  if (route.body === 'none') {
    if (raw && raw.length > 0) throw invalidProxyRequest('unexpected_body', `${route.route} takes no request body`);
    return { raw: undefined, json: undefined, uploads: undefined, betas };
  }
  if (!raw) throw invalidProxyRequest('body_required', `${route.route} needs a request body`);
  if (route.body === 'json') {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      throw invalidProxyRequest('content_type_not_json', 'send the body as application/json');
    }
    return { raw, json: parseJsonBody(raw, limit), uploads: undefined, betas };
  }
  return { raw, json: undefined, uploads: await summariseMultipart(raw, String(request.headers['content-type'] ?? '')), betas };
}

async function summariseMultipart(raw: Buffer, contentType: string): Promise<RequestBody['uploads']> {
  if (!contentType.startsWith('multipart/form-data')) throw invalidProxyRequest('content_type_not_multipart', 'send the upload as multipart/form-data');
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw invalidProxyRequest('malformed_multipart', 'the multipart body could not be parsed');
  }
  const parts: NonNullable<RequestBody['uploads']> = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') parts.push({ name, size: Buffer.byteLength(value) });
    else parts.push({ name, filename: value.name, size: value.size });
  }
  return parts;
}

function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}
