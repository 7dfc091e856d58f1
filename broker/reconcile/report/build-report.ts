import { formatDuration } from '../../config/duration.ts';
import type { StoredReport } from '../../store/store.ts';
import type { KeyAction } from '../apply-key-actions.ts';
import type { AppliedDecision } from '../apply-revocations.ts';
import type { ScopeDrift } from '../checks/scope-drift.ts';
import { principalOf, type CheckResult, type Inventory, type SourceStatus } from '../findings.ts';
import { KEY_REASON_CODES } from '../reasons.ts';
import type { ReconcilerConfig } from '../reconcile-config.ts';
import type { BrakeVerdict } from '../safety-brake.ts';
import type { RevocationReport, ReportSummary } from './report-schema.ts';

type CheckName = RevocationReport['checks'][number]['name'];

/** The reason codes each check can give, in report order. */
const CHECK_REASONS: Record<CheckName, readonly string[]> = {
  expired: ['expired'],
  stale: ['stale'],
  policy_drift: ['policy_removed', 'policy_no_longer_matches', 'policy_narrowed'],
  offboarded: ['actor_offboarded'],
  idp: ['idp_account_gone'],
  repositories: ['repository_deleted', 'repository_transferred', 'repository_made_public', 'repository_archived'],
  api_keys: KEY_REASON_CODES,
  scope_drift: [],
};

export interface ReportInput {
  id: string;
  trigger: RevocationReport['trigger'];
  holder: string;
  startedAt: number;
  finishedAt: number;
  dryRun: boolean;
  settings: ReconcilerConfig;
  inventory: Inventory;
  checks: readonly CheckResult[];
  applied: readonly AppliedDecision[];
  tokenBrake: BrakeVerdict;
  keys?: { checked: number; source: SourceStatus; actions: readonly KeyAction[]; brake: BrakeVerdict };
  drift: readonly ScopeDrift[];
  errors: readonly { source: string; message: string }[];
  deliveries: RevocationReport['deliveries'];
  /** Earlier runs, newest first (as the store lists them). */
  previous: readonly Omit<StoredReport, 'body'>[];
}

/** `buildReport` assembles the report document of one run from what it checked, found and did. */
export function buildReport(input: ReportInput): RevocationReport {
  const { settings: s, inventory: inv } = input;
  const sources = [...input.checks.flatMap((c) => (c.source ? [c.source] : [])), ...(input.keys ? [input.keys.source] : [])];
  const errors = [...sources.filter((x) => x.status !== 'ok').map((x) => ({ source: x.name, message: `${x.status}: ${x.detail}` })), ...input.errors];
  const summary = summarize(input, sources, errors.length);
  return {
    schema_version: 1,
    id: input.id,
    trigger: input.trigger,
    holder: input.holder,
    started_at: iso(input.startedAt),
    finished_at: iso(input.finishedAt),
    duration_ms: Math.max(0, input.finishedAt - input.startedAt),
    settings: {
      stale_after: formatDuration(s.staleAfterSec),
      max_share: s.safety.maxShare,
      floor: s.safety.floor,
      github_orgs: s.github?.orgs ?? [],
      idp_claim: s.idp?.claim ?? null,
      anthropic_keys_enforce: s.anthropicKeys ? s.anthropicKeys.enforce : null,
      scope_drift_window: formatDuration(s.scopeDriftWindowSec),
    },
    summary,
    checks: describeChecks(input),
    sources: sources.map((x) => ({ name: x.name, status: x.status, detail: x.detail, calls: x.calls })),
    brake: { tokens: brakeView(input.tokenBrake), keys: brakeView(input.keys?.brake) },
    revocations: input.applied.map((d) => {
      const [primary, ...also] = d.reasons;
      const t = d.token;
      const lastUsed = inv.lastUsed.get(t.id);
      return {
        token_id: t.id,
        reason: primary!.reason,
        detail: primary!.detail,
        also,
        outcome: d.outcome,
        policy: t.policy,
        principal: principalOf(t),
        issuer: t.issuer,
        ...(t.identity.repository !== undefined && { repository: t.identity.repository }),
        ...(t.identity.repository_id !== undefined && { repository_id: t.identity.repository_id }),
        ...(t.identity.actor !== undefined && { actor: t.identity.actor }),
        sub: t.identity.sub,
        issued_at: iso(t.issuedAt),
        expires_at: iso(t.expiresAt),
        ...(lastUsed !== undefined && { last_used_at: iso(lastUsed) }),
      };
    }),
    api_keys: (input.keys?.actions ?? []).map(({ finding: { key, reasons, exempt }, outcome, error }) => ({
      id: key.id,
      name: key.name,
      workspace_id: key.workspace_id ?? null,
      created_at: key.created_at,
      created_by: key.created_by?.id ?? null,
      partial_key_hint: key.partial_key_hint ?? null,
      reason: reasons[0]!.reason,
      detail: reasons[0]!.detail,
      also: reasons.slice(1),
      outcome,
      ...((exempt ?? error) !== undefined && { note: (exempt ?? error)! }),
    })),
    recommendations: input.drift.map((d) => ({ ...d })),
    deliveries: input.deliveries,
    errors,
    history: [
      ...input.previous
        .slice()
        .reverse()
        .map((r) => ({ id: r.id, started_at: iso(r.startedAt), revoked: num(r.summary['revoked']), closed_expired: num(r.summary['closed_expired']), held: num(r.summary['held']), keys_flagged: num(r.summary['keys_flagged']) })),
      { id: input.id, started_at: iso(input.startedAt), revoked: summary.revoked, closed_expired: summary.closed_expired, held: summary.held, keys_flagged: summary.keys_flagged },
    ],
  };
}

function summarize(input: ReportInput, sources: readonly SourceStatus[], errorCount: number): ReportSummary {
  const count = (pred: (d: AppliedDecision) => boolean) => input.applied.filter(pred).length;
  const expired = (d: AppliedDecision) => d.reasons[0]!.reason === 'expired';
  const keyActions = input.keys?.actions ?? [];
  const byReason: Record<string, number> = {};
  for (const d of input.applied) byReason[d.reasons[0]!.reason] = (byReason[d.reasons[0]!.reason] ?? 0) + 1;
  for (const a of keyActions) byReason[a.finding.reasons[0]!.reason] = (byReason[a.finding.reasons[0]!.reason] ?? 0) + 1;
  const braked = input.tokenBrake.tripped || input.keys?.brake.tripped === true;
  const degraded = sources.some((x) => x.status !== 'ok') || errorCount > 0;
  return {
    status: braked ? 'braked' : degraded ? 'degraded' : 'ok',
    dry_run: input.dryRun,
    tokens_active: input.inventory.active.length,
    principals_active: input.tokenBrake.population,
    revoked: count((d) => d.outcome === 'revoked' && !expired(d)),
    closed_expired: count((d) => d.outcome === 'revoked' && expired(d)),
    would_revoke: count((d) => d.outcome === 'would_revoke'),
    held: count((d) => d.outcome === 'held'),
    keys_checked: input.keys?.checked ?? 0,
    keys_flagged: keyActions.length,
    keys_deactivated: keyActions.filter((a) => a.outcome === 'deactivated').length,
    recommendations: input.drift.filter((d) => d.recommendation !== null).length,
    errors: errorCount,
    by_reason: byReason,
  };
}

function describeChecks(input: ReportInput): RevocationReport['checks'] {
  const ran = new Map(input.checks.map((c) => [c.check, c]));
  const names = Object.keys(CHECK_REASONS) as CheckName[];
  return names.map((name) => {
    const reasons = [...CHECK_REASONS[name]];
    if (name === 'api_keys') {
      if (!input.keys) return { name, status: 'not_configured', checked: 0, found: 0, reasons, notes: ['add reconciler.anthropic_keys to inventory Anthropic API keys'] };
      return { name, status: input.keys.source.status === 'ok' ? 'ran' : 'source_failed', checked: input.keys.checked, found: input.keys.actions.length, reasons, notes: [] };
    }
    if (name === 'scope_drift') return { name, status: 'ran', checked: input.drift.length, found: input.drift.filter((d) => d.recommendation !== null).length, reasons, notes: [] };
    const c = ran.get(name);
    if (!c) return { name, status: 'not_configured', checked: 0, found: 0, reasons, notes: [NOT_CONFIGURED[name] ?? 'not configured'] };
    return { name, status: c.source && c.source.status !== 'ok' ? 'source_failed' : 'ran', checked: c.checked, found: c.findings.length, reasons, notes: c.notes };
  });
}

const NOT_CONFIGURED: Partial<Record<CheckName, string>> = {
  offboarded: 'add reconciler.github (token, orgs) to check org membership',
  repositories: 'add reconciler.github to check repositories (or it is switched off with repositories: false)',
  idp: 'add reconciler.idp (scim_url or file) to check IdP accounts',
};

function brakeView(b: BrakeVerdict | undefined) {
  return b ? { tripped: b.tripped, affected: b.affected, population: b.population, detail: b.detail } : { tripped: false, affected: 0, population: 0, detail: 'not applicable' };
}

const iso = (ms: number) => new Date(ms).toISOString();
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
