import { generateId } from '../exchange/token-format.ts';
import type { Store } from '../store/store.ts';
import { applyKeyActions } from './apply-key-actions.ts';
import { applyRevocations } from './apply-revocations.ts';
import { inspectApiKeys, type KeyInspection } from './checks/api-keys.ts';
import { measureScopeDrift } from './checks/scope-drift.ts';
import type { Inventory } from './findings.ts';
import { takeLease } from './lease.ts';
import { planRevocations } from './plan-revocations.ts';
import { readSecret, type ReconcileDeps } from './reconcile-deps.ts';
import { buildReport } from './report/build-report.ts';
import { publishReport } from './report/publish-report.ts';
import type { RevocationReport } from './report/report-schema.ts';
import { runTokenChecks } from './run-token-checks.ts';
import { checkSafetyBrake } from './safety-brake.ts';
import { createAdminApi, type AdminApi } from './sources/admin-api.ts';
import { createGithubClient, type CountingClient } from './sources/github-client.ts';

/** Long enough for any run; renewed at a third of it, so only a dead holder's lease lapses. */
export const LEASE_TTL_MS = 5 * 60_000;
/** Earlier runs shown in a report's chart. */
const HISTORY = 29;

export interface RunOptions {
  trigger: RevocationReport['trigger'];
  /** Check and report only: no revocation, deactivation, audit record, stored report or delivery. */
  dryRun?: boolean;
  /** The cron slot a scheduled or catch-up run is for: skipped if any run started at or after it. */
  slot?: number;
}

export type RunOutcome = { status: 'completed'; report: RevocationReport } | { status: 'skipped'; reason: string };

/**
 * `reconcile` is one run: elect → inventory → check → plan (safety brake) → apply → report.
 * Only the lease holder runs, among every broker sharing the store; nothing changes until all
 * sources have answered and the lease is confirmed still ours.
 */
export async function reconcile(deps: ReconcileDeps, opts: RunOptions): Promise<RunOutcome> {
  const dryRun = opts.dryRun ?? false;
  const lease = dryRun ? undefined : await takeLease(deps.store, deps.holder, deps.now, deps.leaseTtlMs ?? LEASE_TTL_MS);
  if (!dryRun && !lease) return { status: 'skipped', reason: 'another broker holds the reconciler lease and is running it' };
  try {
    const previous = await deps.store.listReports(HISTORY);
    if (opts.slot !== undefined && previous[0] !== undefined && previous[0].startedAt >= opts.slot) {
      return { status: 'skipped', reason: `the run for the ${new Date(opts.slot).toISOString()} slot already happened (${previous[0].id})` };
    }
    const startedAt = deps.now();
    const s = deps.settings;
    const inventory = await takeInventory(deps.store, startedAt, s.staleAfterSec);
    const errors: { source: string; message: string }[] = [];
    const github = await connectGithub(deps);
    const checks = await runTokenChecks(deps, inventory, github.client, github.error);
    const plan = planRevocations(inventory, checks, s.safety);
    const keys = s.anthropicKeys && (await inspectKeys(deps, startedAt, errors));
    const keyBrake = keys && checkSafetyBrake('active API keys', keys.inspection.findings.filter((f) => f.exempt === undefined).length, keys.inspection.checked, s.safety);
    const drift = await measureScopeDrift(deps.store, deps.policies, startedAt, s.scopeDriftWindowSec);

    const id = generateId('rpt');
    await lease?.confirm();
    const applied = await applyRevocations(deps.store, plan.decisions, { reportId: id, now: deps.now(), dryRun });
    const keyActions = keys && keyBrake ? await applyKeyActions(keys.api, keys.inspection.findings, { store: deps.store, reportId: id, now: deps.now(), enforce: keys.enforce, dryRun, brake: keyBrake }) : [];
    for (const a of keyActions) if (a.error !== undefined) errors.push({ source: 'admin_api', message: `deactivating ${a.finding.key.id}: ${a.error}` });

    const report = buildReport({
      id,
      trigger: opts.trigger,
      holder: deps.holder,
      startedAt,
      finishedAt: deps.now(),
      dryRun,
      settings: s,
      inventory,
      checks,
      applied,
      tokenBrake: plan.brake,
      ...(keys && keyBrake && { keys: { checked: keys.inspection.checked, source: keys.inspection.source, actions: keyActions, brake: keyBrake } }),
      drift,
      errors,
      deliveries: [],
      previous,
    });
    if (dryRun) return { status: 'completed', report };
    const issueClient = github.client;
    return { status: 'completed', report: await publishReport(report, { store: deps.store, reports: s.reports, ...(issueClient && { github: async () => issueClient }) }) };
  } finally {
    await lease?.release();
  }
}

/** `takeInventory` reads the open tokens once and their last use within the stale window. */
export async function takeInventory(store: Store, now: number, staleAfterSec: number): Promise<Inventory> {
  const open = await store.listTokens({ open: true, limit: Number.MAX_SAFE_INTEGER });
  return {
    now,
    active: open.filter((t) => t.expiresAt > now),
    expired: open.filter((t) => t.expiresAt <= now),
    lastUsed: await store.lastUsedSince(now - staleAfterSec * 1000),
  };
}

async function connectGithub(deps: ReconcileDeps): Promise<{ client?: CountingClient; error?: string }> {
  const github = deps.settings.github;
  if (!github || !deps.secrets.github) return {};
  const token = await readSecret(deps.secrets.github, 'reconciler.github.token');
  if ('error' in token) return { error: token.error };
  return { client: createGithubClient({ baseUrl: github.apiUrl, token: token.value, ...(deps.githubTiming && { timing: deps.githubTiming }) }) };
}

async function inspectKeys(deps: ReconcileDeps, now: number, errors: { source: string; message: string }[]): Promise<{ api?: AdminApi; inspection: KeyInspection; enforce: boolean }> {
  const cfg = deps.settings.anthropicKeys!;
  const adminKey = await readSecret(deps.secrets.adminKey!, 'reconciler.anthropic_keys.admin_key');
  if ('error' in adminKey) return { inspection: { checked: 0, findings: [], source: { name: 'admin_api', status: 'failed', detail: adminKey.error, calls: 0 } }, enforce: false };
  // The broker's own upstream key must be recognised before anything is deactivated.
  const upstream = deps.secrets.upstreamKey && (await readSecret(deps.secrets.upstreamKey, 'upstream.credential'));
  let enforce = cfg.enforce;
  if (upstream && 'error' in upstream && enforce) {
    errors.push({ source: 'admin_api', message: `${upstream.error}; keys were only flagged, since the broker's own key could not be told apart` });
    enforce = false;
  }
  const api = createAdminApi({ baseUrl: cfg.baseUrl, adminKey: adminKey.value });
  const inspection = await inspectApiKeys(api, { now, staleAfterSec: cfg.staleAfterSec, exempt: cfg.exempt, ...(upstream && 'value' in upstream && { upstreamKey: upstream.value }) });
  return { api, inspection, enforce };
}
