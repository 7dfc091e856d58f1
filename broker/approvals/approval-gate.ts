import type { Grant } from '../policy/grant.ts';
import type { ClassifiedRequest } from '../proxy/operation.ts';
import type { TokenRecord } from '../store/store.ts';

/** What the approve stage knows about a request that passed guard. */
export interface ApprovalInput {
  token: TokenRecord;
  grant: Grant;
  route: ClassifiedRequest;
  /** Parsed JSON body (messages, batches), undefined for other routes. */
  body: Record<string, unknown> | undefined;
  /** SHA-256 over method, upstream path and the exact bytes that would be forwarded. */
  fingerprint: string;
  requestId: string;
  /** From the `x-skillgate-justification` header, if the caller gave one. */
  justification?: string;
}

/** The approve stage: resolves when the request may go on; throws a ProxyError (403 approval_required / approval_denied …) otherwise. */
export interface ApprovalGate {
  approve(input: ApprovalInput): Promise<void>;
}

/** `allowAll` is the gate for brokers or policies without approval rules. */
export const allowAll: ApprovalGate = { approve: async () => undefined };
