import type { AuditRecord } from '../audit/audit-record.ts';
import { identityFields } from '../audit/record-event.ts';
import type { Store, TokenRecord } from '../store/store.ts';
import type { Masker } from './mask/masker.ts';
import type { ClassifiedRequest } from './operation.ts';
import { ProxyError } from './proxy-error.ts';
import type { RelayEnd } from './respond.ts';

/** `ProxyAudit` writes the proxy's records: write-ahead `request`, then `outcome`; denials on their own. */
export type ProxyAudit = ReturnType<typeof createProxyAudit>;

/**
 * `createProxyAudit` is the `record` stage. `request` must commit before a byte goes upstream:
 * if it cannot, the call is refused with 503 and readiness turns false until a write succeeds
 * again (fail closed). Bodies are stored masked and capped, with a truncation flag.
 */
export function createProxyAudit(store: Store, masker: Masker, opts: { bodyBytes: number; now: () => number; instanceId: string }) {
  let healthy = true;
  // Who-and-where is the same for every call of a token: worked out once per cached token record.
  const sessions = new WeakMap<TokenRecord, Pick<AuditRecord, 'session' | 'repository' | 'repositoryId' | 'runId' | 'pr' | 'actor'>>();
  const session = (token: TokenRecord) => {
    let fields = sessions.get(token);
    if (fields === undefined) sessions.set(token, (fields = { session: token.id, ...identityFields(token.identity) }));
    return fields;
  };

  const append = async (record: AuditRecord) => {
    await store.appendAudit(record);
    healthy = true;
  };

  return {
    /** False after a failed write, until the next one succeeds (readiness reports it). */
    isHealthy: () => healthy,
    markHealthy: () => void (healthy = true),

    async request(requestId: string, token: TokenRecord, route: ClassifiedRequest, body: Record<string, unknown> | undefined, upload: unknown): Promise<void> {
      try {
        await append({ type: 'proxy.request', at: opts.now(), requestId, ...session(token), operation: route.operation, data: { route: route.route, policy: token.policy, instance: opts.instanceId, request: captureBody(masker, body ?? upload, opts.bodyBytes) } });
      } catch {
        healthy = false;
        throw new ProxyError(503, 'api_error', 'audit_unavailable', 'the audit trail cannot be written, so nothing was forwarded; retry later');
      }
    },

    async outcome(requestId: string, token: TokenRecord, route: ClassifiedRequest, end: RelayEnd, startedAt: number): Promise<void> {
      const { response, ...rest } = end;
      await append({
        type: 'proxy.outcome',
        at: opts.now(),
        requestId,
        ...session(token),
        operation: route.operation,
        outcome: end.ended === 'complete' ? (end.status < 400 ? 'ok' : 'upstream_error') : end.ended,
        data: { ...rest, latencyMs: opts.now() - startedAt, ...(response && { response }) },
      }).catch(() => void (healthy = false));
    },

    /**
     * A refusal. `asked` is the request as read, given when no `request` record holds it: what was
     * blocked is then on record (masked and capped like any body). Unauthenticated callers get no
     * body stored, so nobody without a token can fill the audit store.
     */
    async denied(requestId: string, token: TokenRecord | undefined, operation: string | undefined, err: ProxyError, asked?: { json: unknown; uploads: unknown }): Promise<void> {
      const request = token && asked ? captureBody(masker, asked.json ?? asked.uploads, opts.bodyBytes) : undefined;
      await append({
        type: 'proxy.denied',
        at: opts.now(),
        requestId,
        ...(token && session(token)),
        ...(operation !== undefined && { operation }),
        outcome: err.status >= 500 ? 'error' : 'denied',
        reason: err.reason,
        data: { status: err.status, message: err.message, ...(request && { request }) },
      }).catch(() => void (healthy = false));
    },
  };
}

/** The request as the audit keeps it: masked, and cut to `limit` bytes of JSON with a flag. */
function captureBody(masker: Masker, body: unknown, limit: number): { body: unknown; truncated: boolean } | undefined {
  if (body === undefined) return undefined;
  const masked = masker.maskJson(body).value;
  const text = JSON.stringify(masked);
  return text.length <= limit ? { body: masked, truncated: false } : { body: text.slice(0, limit), truncated: true };
}
