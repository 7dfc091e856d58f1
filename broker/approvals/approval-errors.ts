import { formatDuration } from '../config/duration.ts';
import { ProxyError } from '../proxy/proxy-error.ts';
import type { ApprovalRecord } from './approval-store.ts';

/**
 * Refusals of the approve stage. All are 403 permission_error (clients do not retry them blindly)
 * with `error.details.error_code` for SDK 1.x and the approval id in both message and details.
 */
const refusal = (code: string, message: string, details: Record<string, unknown>) =>
  new ProxyError(403, 'permission_error', code, message, { error_code: code, ...details });

const how = (r: ApprovalRecord) =>
  `an approver (${r.approvers.join(', ')}) can run \`skillgate approvals approve ${r.id}\` or POST /v1/approvals/${r.id}/approve; ` +
  `then send the identical request again with the same token (an approval is good for ${r.usesTotal} use${r.usesTotal === 1 ? '' : 's'} within ${formatDuration(r.validForSec)})`;

const pendingDetails = (r: ApprovalRecord) => ({
  approval_id: r.id,
  state: r.state,
  approvers: r.approvers,
  reasons: r.reasons,
  expires_at: new Date(r.pendingUntil).toISOString(),
});

/** `approvalRequired`: the request waits for approval `r` (just requested, or held until the wait ran out). */
export function approvalRequired(r: ApprovalRecord, held = false): ProxyError {
  const lead = held ? `approval ${r.id} for this request is still pending after the hold` : `this request needs a human approval (policy ${r.policy}: ${r.reasons.join('; ')}); approval ${r.id} is pending`;
  return refusal('approval_required', `${lead}: ${how(r)}`, pendingDetails(r));
}

/** `approvalDenied`: an approver denied this exact request for this token; it stays denied. */
export function approvalDenied(r: ApprovalRecord): ProxyError {
  const why = r.decisionReason === undefined ? '' : ` (${r.decisionReason})`;
  return refusal(
    'approval_denied',
    `approval ${r.id} for this request was denied by ${r.decidedBy ?? 'an approver'}${why}; the identical request stays denied for this token — change the request or talk to the approvers`,
    { approval_id: r.id, state: r.state, denied_by: r.decidedBy, ...(r.decisionReason !== undefined && { reason: r.decisionReason }) },
  );
}

/** `approvalExpired`: approval `old` lapsed (undecided, or approved but not used in time); `fresh` is the new pending one. */
export function approvalExpired(old: ApprovalRecord, fresh: ApprovalRecord): ProxyError {
  const what = old.decidedAt === undefined ? 'nobody decided on it in time' : `it was approved but not used within ${formatDuration(old.validForSec)}`;
  return refusal('approval_expired', `approval ${old.id} for this request expired (${what}); a new approval ${fresh.id} is pending: ${how(fresh)}`, {
    ...pendingDetails(fresh),
    expired_approval_id: old.id,
  });
}

/** `approvalsUnavailable`: the approval store cannot be read; fail closed (503, retried by SDKs). */
export const approvalsUnavailable = () => new ProxyError(503, 'api_error', 'approvals_unavailable', 'approvals cannot be checked right now; retry later');
