import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BrokerError } from '../errors.ts';
import { StoreUnavailableError } from '../store/store.ts';

/**
 * The one place broker errors become HTTP. The body names the error family, a stable reason and
 * a message saying what to fix; 5xx bodies stay generic and details go to the debug log only.
 */
export function replyWithError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toBrokerError(err);
  if (e.status >= 500) request.log.error({ reason: e.reason, err: { name: err.name, message: err.message } }, 'request failed');
  else request.log.debug({ reason: e.reason, detail: e.detail }, 'request refused');
  reply.header('cache-control', 'no-store');
  if (e.error === 'invalid_token' || e.error === 'unauthorized') reply.header('www-authenticate', `Bearer error="${e.error}"`);
  return reply.status(e.status).send({
    error: e.error,
    reason: e.reason,
    message: e.message,
    error_description: e.message,
    request_id: request.id,
  });
}

function toBrokerError(err: FastifyError | Error): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof StoreUnavailableError) return new BrokerError('store_unavailable', 'store_unavailable', 'the store is unavailable; retry later');
  const fe = err as FastifyError;
  if (fe.validation) return new BrokerError('invalid_request', 'invalid_parameter', `${fe.validationContext ?? 'request'} ${fe.message.replace(/^(body|querystring|params|headers)\s*/, '')}`);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BrokerError('invalid_request', 'body_too_large', 'the request body is too large', {}, 413);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new BrokerError('invalid_request', 'unsupported_media_type', 'send application/json or application/x-www-form-urlencoded', {}, 415);
    case 'FST_ERR_BAD_URL':
      return new BrokerError('invalid_request', 'malformed_url', 'the URL is not valid (check its percent-encoding)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new BrokerError('invalid_request', 'url_too_long', 'a path segment of the URL is too long', {}, 414);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new BrokerError('invalid_request', 'malformed_body', 'the request body is not valid JSON');
  }
  if (fe.statusCode === 400 || err instanceof SyntaxError) return new BrokerError('invalid_request', 'malformed_body', 'the request body could not be parsed');
  if (fe.statusCode === 404) return new BrokerError('not_found', 'not_found', 'no such route');
  return new BrokerError('server_error', 'internal', 'internal error; the request id identifies it in the broker logs');
}
