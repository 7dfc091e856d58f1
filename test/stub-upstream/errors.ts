/**
 * The stub's error catalogue: handlers throw a `StubError`, and only `server.ts` turns it into
 * Anthropic's error envelope (§3.9), so every refusal has the same shape and carries `request_id`.
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

export class StubError extends Error {
  override readonly name = 'StubError';

  constructor(
    readonly status: number,
    readonly type: AnthropicErrorType,
    message: string,
    /** Extra response headers, e.g. `retry-after` on a 429. */
    readonly headers: Record<string, string> = {},
    /** SDK 1.x maps `"<status> <details.error_code>"` to a specific error class (§10). */
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** `errorEnvelope` returns the JSON body Anthropic sends with every non-2xx status. */
export function errorEnvelope(error: StubError, requestId: string) {
  const details = error.errorCode === undefined ? {} : { details: { error_code: error.errorCode } };
  return { type: 'error', error: { type: error.type, message: error.message, ...details }, request_id: requestId };
}

/** `invalidRequest` is a 400 `invalid_request_error`, the API's answer to most malformed requests. */
export const invalidRequest = (message: string) => new StubError(400, 'invalid_request_error', message);

/** `notFound` is a 404 `not_found_error`. */
export const notFound = (message: string) => new StubError(404, 'not_found_error', message);

/** `unauthenticated` is a 401 `authentication_error` with the wording Claude Code matches on. */
export const unauthenticated = (message: string) => new StubError(401, 'authentication_error', message);

/** `tooLarge` is a 413 `request_too_large`, the status Cloudflare answers oversize bodies with. */
export const tooLarge = (message: string) => new StubError(413, 'request_too_large', message);

/** The error type Anthropic uses for each status the stub can be asked to fail with. */
export function errorTypeForStatus(status: number): AnthropicErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}
