// The broker's HTTP API as the Action uses it: exchange, whoami, session replay, revoke. No toolkit
// import, and no broker import either: the Action is a client of the wire format, not of the code.

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** The RFC 8693 answer, with skillgate's additions. */
export interface IssuedToken {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  token_id: string;
  expires_at: string;
  policy: string;
}

/** `GET /v1/whoami`: what the token is bound to. */
export interface TokenDescription {
  id: string;
  policy: string;
  scopes: string[];
  identity: Record<string, unknown>;
  issued_at?: string;
  expires_at: string;
  state: string;
}

/** One proxied call of a session replay (`GET /v1/audit/sessions/{id}?format=json`). */
export interface SessionCall {
  requestId: string;
  at: string;
  operation?: string;
  outcome?: string;
  reason?: string;
  status?: number;
  model?: string;
  prompt?: string;
  tools?: string[];
  skills?: string[];
  reply?: string;
  toolCalls?: { name: string; input: string }[];
  usage?: { inputTokens?: number; outputTokens?: number };
  masked?: number;
  truncated?: boolean;
}

export interface SessionTranscript {
  session: string;
  /** The link of the session's last audit record, `<seq>:<hash>`. */
  checkpoint?: string;
  token?: { policy: string; scopes: string[]; identity: Record<string, unknown>; issuedAt: string; expiresAt: string; revoked?: string };
  events: { at: string; type: string; outcome?: string; reason?: string }[];
  calls: SessionCall[];
}

/**
 * Why a broker call failed. `unreachable`: no HTTP answer at all (DNS, refused, timeout, TLS);
 * `refused`: the broker answered with its `{error, reason, message}` body; `unexpected`: some
 * other HTTP answer (a proxy's HTML page, a 502 from a load balancer).
 */
export class BrokerRequestError extends Error {
  override readonly name = 'BrokerRequestError';

  constructor(
    readonly kind: 'unreachable' | 'refused' | 'unexpected',
    message: string,
    readonly details: { url: string; status?: number; error?: string; reason?: string; requestId?: string; cause?: string },
  ) {
    super(message);
  }
}

export interface ExchangeRequest {
  subjectToken: string;
  scope?: string;
  ttlSeconds?: number;
}

export interface BrokerClientOptions {
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  userAgent?: string;
}

export type BrokerClient = ReturnType<typeof createBrokerClient>;

/** `createBrokerClient` returns the four calls the Action makes to the broker at `baseUrl`. */
export function createBrokerClient(baseUrl: string, opts: BrokerClientOptions = {}) {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const userAgent = opts.userAgent ?? 'skillgate-action';

  async function call<T>(method: 'GET' | 'POST', path: string, init: { token?: string; body?: unknown } = {}): Promise<T> {
    const url = `${baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent };
    if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
        ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      });
    } catch (err) {
      const cause = describeNetworkError(err);
      throw new BrokerRequestError('unreachable', `cannot reach the broker at ${baseUrl} (${cause})`, { url: baseUrl, cause });
    }
    const text = await res.text().catch(() => '');
    const body = parseJson(text);
    if (res.ok && body !== undefined) return body as T;
    if (isRefusal(body)) {
      throw new BrokerRequestError('refused', body.message, {
        url: baseUrl,
        status: res.status,
        error: body.error,
        reason: body.reason,
        ...(typeof body.request_id === 'string' && { requestId: body.request_id }),
      });
    }
    throw new BrokerRequestError('unexpected', `the broker at ${baseUrl} answered ${method} ${path} with HTTP ${res.status} and no skillgate JSON body${res.ok ? '' : ` (is broker-url the broker, and not a proxy or login page?)`}`, { url: baseUrl, status: res.status });
  }

  return {
    /** `exchange` trades an OIDC ID token for a skillgate token (`POST /v1/token`, RFC 8693). */
    exchange: (req: ExchangeRequest) =>
      call<IssuedToken>('POST', '/v1/token', {
        body: {
          grant_type: TOKEN_EXCHANGE_GRANT,
          subject_token: req.subjectToken,
          subject_token_type: ID_TOKEN_TYPE,
          ...(req.scope !== undefined && { scope: req.scope }),
          ...(req.ttlSeconds !== undefined && { requested_ttl: req.ttlSeconds }),
        },
      }),
    /** `whoami` describes the token: policy, scopes, bound identity, expiry, state. */
    whoami: (token: string) => call<TokenDescription>('GET', '/v1/whoami', { token }),
    /** `session` replays the token's own session from the audit API (a token can always read its own). */
    session: (token: string, sessionId: string) => call<SessionTranscript>('GET', `/v1/audit/sessions/${encodeURIComponent(sessionId)}?format=json`, { token }),
    /** `revoke` kills the token at once (`POST /v1/token/revoke`, RFC 7009). */
    revoke: async (token: string): Promise<void> => void (await call<unknown>('POST', '/v1/token/revoke', { body: { token } })),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRefusal(body: unknown): body is { error: string; reason: string; message: string; request_id?: unknown } {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b['error'] === 'string' && typeof b['reason'] === 'string' && typeof b['message'] === 'string';
}

/** Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND, a certificate error) in `cause`. */
function describeNetworkError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
