/**
 * The broker's error catalogue. Every refusal carries a stable `error` (the OAuth / HTTP family),
 * a stable `reason` (what exactly failed, for scripts and dashboards) and a message that tells the
 * caller what to fix. Messages never contain a token, a key or an expected policy value.
 * One place, `http/error-reply.ts`, turns these into HTTP.
 */
export type ErrorFamily =
  | 'invalid_request'
  | 'invalid_token'
  | 'invalid_scope'
  | 'policy_denied'
  | 'unauthorized'
  | 'not_found'
  | 'idp_unavailable'
  | 'store_unavailable'
  | 'server_error';

const statusOf: Record<ErrorFamily, number> = {
  invalid_request: 400,
  invalid_scope: 400,
  invalid_token: 401,
  unauthorized: 401,
  policy_denied: 403,
  not_found: 404,
  idp_unavailable: 503,
  store_unavailable: 503,
  server_error: 500,
};

export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  readonly status: number;

  constructor(
    readonly error: ErrorFamily,
    readonly reason: string,
    message: string,
    /** Extra facts for the audit event and debug logs only (never sent to the caller). */
    readonly detail: Record<string, unknown> = {},
    status?: number,
  ) {
    super(message);
    this.status = status ?? statusOf[error];
  }
}

/** `invalidRequest` is a 400 for a request whose shape is wrong (missing field, token in the URL…). */
export const invalidRequest = (reason: string, message: string, detail?: Record<string, unknown>) =>
  new BrokerError('invalid_request', reason, message, detail);

/** `invalidToken` is a 401 for an OIDC token that failed verification. */
export const invalidToken = (reason: string, message: string, detail?: Record<string, unknown>) =>
  new BrokerError('invalid_token', reason, message, detail);

/** `policyDenied` is a 403: the token is genuine but no trust policy grants it. */
export const policyDenied = (reason: string, message: string, detail?: Record<string, unknown>) =>
  new BrokerError('policy_denied', reason, message, detail);

/** `idpUnavailable` is a 503: the issuer's keys cannot be had, so nothing can be verified. */
export const idpUnavailable = (message: string, detail?: Record<string, unknown>) =>
  new BrokerError('idp_unavailable', 'idp_unavailable', message, detail);

/** `storeUnavailable` is a 503: without a durable store nothing may be minted (fail closed). */
export const storeUnavailable = (message: string, detail?: Record<string, unknown>) =>
  new BrokerError('store_unavailable', 'store_unavailable', message, detail);
