import type { Grant } from '../policy/grant.ts';
import { checkBatch } from './guard/batches.ts';
import { checkBetas } from './guard/betas.ts';
import { unknownField, type GuardContext } from './guard/context.ts';
import { checkMessagesParams } from './guard/messages.ts';
import { checkUploads, type UploadPart } from './guard/uploads.ts';
import type { ClassifiedRequest } from './operation.ts';
import { invalidProxyRequest } from './proxy-error.ts';

export { parseJsonBody } from './guard/body.ts';

export interface GuardInput {
  classified: ClassifiedRequest;
  /** `anthropic-beta` values, split on commas and trimmed. */
  betas: string[];
  /** The strictly parsed JSON body, for routes that take one. */
  body: Record<string, unknown> | undefined;
  /** Multipart parts, for upload routes. */
  uploads?: UploadPart[] | undefined;
  /** The effective grant from `authorize`. */
  grant: Grant;
  policyName: string;
}

export interface GuardResult {
  /** The exact body to forward: JSON.stringify of the checked object (json routes). */
  forwardBody?: Buffer;
  /** True when the checked body asks for an SSE stream (`stream: true` on `POST /v1/messages`). */
  stream: boolean;
}

/** JSON routes and the check each body gets; a JSON route not listed here must send `{}`. */
const JSON_CHECKS: ReadonlyMap<string, (body: Record<string, unknown>, ctx: GuardContext) => void> = new Map([
  ['POST /v1/messages', (body, ctx) => checkMessagesParams(body, 'create', ctx)],
  ['POST /v1/messages/count_tokens', (body, ctx) => checkMessagesParams(body, 'count_tokens', ctx)],
  ['POST /v1/messages/batches', checkBatch],
]);

/**
 * `guardRequest` checks one classified request against the token's effective grant and returns
 * what to forward; it throws a ProxyError (403 for a policy denial, 400/413 for a body it will not
 * read) and never answers itself. Headers are checked before the body; a JSON body is forwarded
 * as the re-serialisation of the very object that was checked, so no second parser can read a
 * different request than the guard did.
 */
export function guardRequest(input: GuardInput): GuardResult {
  const { classified } = input;
  const ctx: GuardContext = { grant: input.grant, policyName: input.policyName, at: '' };
  checkBetas(input.betas, ctx);

  if (classified.body === 'multipart') {
    checkUploads(input.uploads ?? [], classified.operation);
    return { stream: false };
  }
  if (classified.body === 'none') return { stream: false };

  const body = input.body;
  if (body === undefined) throw invalidProxyRequest('body_required', `${classified.route} needs a JSON request body`);
  const check = JSON_CHECKS.get(classified.route);
  if (check !== undefined) {
    check(body, ctx);
  } else {
    const first = Object.keys(body)[0];
    if (first !== undefined) throw unknownField(ctx, first, []);
  }
  return {
    forwardBody: Buffer.from(JSON.stringify(body)),
    stream: classified.route === 'POST /v1/messages' && body['stream'] === true,
  };
}
