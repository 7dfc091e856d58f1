import type { ConfigFile } from '../config/schema.ts';
import { parseDuration } from '../config/duration.ts';
import type { IssuerSpec } from '../exchange/issuers.ts';
import { compileApprovalRules } from './approval-rules.ts';

/** A configured approver: an operator credential, or a person's IdP identity (issuer + sub). */
export type ApproverSpec = { name: string; operator: string } | { name: string; issuer: IssuerSpec; sub: string };

/** The approval settings after load. */
export interface ApprovalsConfig {
  approvers: ApproverSpec[];
  /** Resolved webhook URL (it may hold a secret, e.g. a Slack incoming-webhook path). */
  webhookUrl?: string;
  pendingTimeoutSec: number;
}

export interface ApprovalsConfigContext {
  operators: readonly { name: string }[];
  issuers: readonly IssuerSpec[];
  /** Resolves an env: / file: reference, reporting a failure as a problem. */
  secret: (ref: string, at: string) => string;
}

/**
 * `compileApprovalsConfig` checks the top-level `approvers` and `approvals` and every policy's
 * `grant.approval` against them, so a policy naming an approver nobody configured fails at boot
 * rather than leaving its requests pending for ever.
 */
export function compileApprovalsConfig(data: ConfigFile, ctx: ApprovalsConfigContext, problems: string[]): ApprovalsConfig {
  const approvers = compileApprovers(data.approvers ?? [], ctx, problems);
  const known = new Set((data.approvers ?? []).map((a) => a.name));
  data.policies.forEach((policy, i) => {
    const approval = policy.grant.approval;
    if (!approval) return;
    const at = `policies[${i}] (${policy.name}).grant.approval`;
    compileApprovalRules(approval.for, `${at}.for`, problems);
    approval.approvers.forEach((name, j) => {
      if (known.has(name)) return;
      const listed = known.size === 0 ? 'no approvers are configured' : `configured: ${[...known].join(', ')}`;
      problems.push(`${at}.approvers[${j}]: no approver named "${name}" (${listed}); add {name: ${name}, operator: …} or {name: ${name}, issuer: …, sub: …} under approvers`);
    });
  });
  const webhook = data.approvals?.webhook_url;
  const resolved = webhook !== undefined && /^(env|file):/.test(webhook) ? ctx.secret(webhook, 'approvals.webhook_url') : webhook;
  // An unresolvable reference was reported by secret() already.
  const webhookUrl = resolved === undefined || resolved === '' ? undefined : checkWebhookUrl(resolved, problems);
  return {
    approvers,
    ...(webhookUrl !== undefined && { webhookUrl }),
    pendingTimeoutSec: parseDuration(data.approvals?.pending_timeout ?? '1h'),
  };
}

function compileApprovers(entries: NonNullable<ConfigFile['approvers']>, ctx: ApprovalsConfigContext, problems: string[]): ApproverSpec[] {
  const specs: ApproverSpec[] = [];
  const names = new Set<string>();
  entries.forEach((entry, i) => {
    const at = `approvers[${i}] (${entry.name})`;
    if (names.has(entry.name)) problems.push(`${at}.name: approver name "${entry.name}" is used twice; names must be unique`);
    names.add(entry.name);
    const byIdp = entry.issuer !== undefined || entry.sub !== undefined;
    if ((entry.operator !== undefined) === byIdp) {
      problems.push(`${at}: give exactly one of operator (an operator credential) or issuer and sub (an IdP identity)`);
      return;
    }
    if (entry.operator !== undefined) {
      if (!ctx.operators.some((o) => o.name === entry.operator)) {
        problems.push(`${at}.operator: no operator named "${entry.operator}"; add it under operators or use one of: ${ctx.operators.map((o) => o.name).join(', ') || '(none configured)'}`);
        return;
      }
      specs.push({ name: entry.name, operator: entry.operator });
      return;
    }
    if (entry.issuer === undefined || entry.sub === undefined) {
      problems.push(`${at}: an IdP approver needs both issuer (an entry of issuers) and sub (the subject of their ID token)`);
      return;
    }
    const issuer = ctx.issuers.find((s) => s.name === entry.issuer);
    if (!issuer) {
      problems.push(`${at}.issuer: no issuer named "${entry.issuer}"; known: ${ctx.issuers.map((s) => s.name).join(', ')}`);
      return;
    }
    // A workflow approving requests would let CI approve itself: approvers are people.
    if (issuer.kind !== 'oidc') {
      problems.push(`${at}.issuer: issuer "${entry.issuer}" issues GitHub Actions tokens; approvers authenticate with a person's IdP (kind: oidc) or an operator credential`);
      return;
    }
    specs.push({ name: entry.name, issuer, sub: entry.sub });
  });
  return specs;
}

/** Webhooks go out over https; plain http only to loopback (tests, a local relay). */
function checkWebhookUrl(text: string, problems: string[]): string | undefined {
  try {
    const url = new URL(text);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return url.href;
  } catch {
    // reported below
  }
  // The URL itself may be a secret (Slack puts one in the path): never quote it.
  problems.push('approvals.webhook_url: must be an https URL (http only for 127.0.0.1 / localhost)');
  return undefined;
}
