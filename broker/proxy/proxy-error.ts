/**
 * Errors of the proxied Anthropic API, answered in Anthropic's own envelope so SDKs raise their
 * typed errors. Denials use statuses clients do not retry (400, 401, 403, 404, 413); a 429 from a
 * budget carries `x-should-retry: false`. Messages say which rule refused and what would allow it.
 */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  constructor(
    readonly status: number,
    readonly type: AnthropicErrorType,
    /** Stable reason code for audit, metrics and tests. */
    readonly reason: string,
    message: string,
    /** Sent as `error.details` (SDK 1.x reads `error_code` from it); never holds a secret. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** `invalidProxyRequest` is a 400 for a request the proxy cannot read safely. */
export const invalidProxyRequest = (reason: string, message: string) => new ProxyError(400, 'invalid_request_error', reason, message);

/** `permissionDenied` is a 403: the token's grant does not allow this request. */
export const permissionDenied = (reason: string, message: string) => new ProxyError(403, 'permission_error', reason, message);

/** `routeNotFound` is a 404 for a path that is not part of the proxied API surface. */
export const routeNotFound = (reason: string, message: string) => new ProxyError(404, 'not_found_error', reason, message);

/** `anthropicErrorBody` renders the envelope: `{type: 'error', error: {type, message, details?}, request_id}`. */
export function anthropicErrorBody(err: ProxyError, requestId: string) {
  // SDK 1.x exposes details.error_code as `err.errorCode`: every refusal carries its stable reason there.
  return { type: 'error', error: { type: err.type, message: err.message, details: { error_code: err.reason, ...err.details } }, request_id: requestId };
}
