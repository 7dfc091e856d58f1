import { createTask, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Config } from '../config/load-config.ts';
import type { Store } from '../store/store.ts';
import { reconcile, type RunOptions, type RunOutcome } from './reconcile.ts';
import { createReconcileDeps, type ReconcileDeps } from './reconcile-deps.ts';

/** How far back start-up looks for a slot missed while no broker ran. */
const LOOKBACK_MS = 32 * 86_400_000;

export interface ReconcileSchedule {
  /** The start-up catch-up run, settled (undefined when no slot was missed). */
  catchUp: Promise<RunOutcome | undefined>;
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

/**
 * `scheduleReconciler` runs the reconciler on `reconciler.schedule` (node-cron, never two runs at
 * once in this process) and, at start-up, once for the latest slot if no run has started since it
 * — the run a restart or an outage made the brokers miss. Each run names its slot, so across
 * replicas a slot is run once: the lease elects one, and a later replica finds the slot done.
 */
export function scheduleReconciler(deps: ReconcileDeps, log: Log, run: (deps: ReconcileDeps, opts: RunOptions) => Promise<RunOutcome> = reconcile): ReconcileSchedule {
  const { schedule, timezone } = deps.settings;
  if (schedule === undefined) throw new Error('reconciler.schedule is not set');
  let running: Promise<RunOutcome | undefined> | undefined;

  const runSlot = async (trigger: 'schedule' | 'catch_up', slot: number): Promise<RunOutcome | undefined> => {
    if (running) {
      log.warn({ slot: new Date(slot).toISOString() }, 'reconciler: the previous run is still going; this slot is skipped');
      return undefined;
    }
    running = run(deps, { trigger, slot }).then(
      (outcome) => {
        if (outcome.status === 'skipped') log.info({ trigger }, `reconciler: skipped: ${outcome.reason}`);
        else log.info({ trigger, report: outcome.report.id, ...outcome.report.summary, by_reason: undefined }, 'reconciler: run finished');
        return outcome;
      },
      (err: Error) => {
        log.error({ trigger, err: err.message }, 'reconciler: run failed');
        return undefined;
      },
    );
    try {
      return await running;
    } finally {
      running = undefined;
    }
  };

  const task: ScheduledTask = createTask(schedule, (ctx) => runSlot('schedule', ctx.date.getTime()), {
    name: 'skillgate-reconciler',
    noOverlap: true,
    unref: true,
    ...(timezone !== undefined && { timezone }),
    logger: { info: () => undefined, debug: () => undefined, warn: (m) => log.warn(`reconciler schedule: ${m}`), error: (m) => log.error(`reconciler schedule: ${String(m)}`) },
  });
  void task.start();

  const catchUp = (async () => {
    const latest = (await deps.store.listReports(1))[0];
    const slot = lastSlot(task, deps.now(), latest?.startedAt ?? deps.now() - LOOKBACK_MS);
    return slot === undefined ? undefined : runSlot('catch_up', slot);
  })().catch((err: Error) => {
    log.error({ err: err.message }, 'reconciler: start-up catch-up failed');
    return undefined;
  });

  return {
    catchUp,
    async stop() {
      await task.destroy();
      await running;
    },
  };
}

/** The latest slot after `since` and at or before `now`, scanning back a minute at a time (cron's grain). */
export function lastSlot(task: Pick<ScheduledTask, 'match'>, now: number, since: number): number | undefined {
  for (let t = Math.floor(now / 60_000) * 60_000; t > since && t > now - LOOKBACK_MS; t -= 60_000) {
    if (task.match(new Date(t))) return t;
  }
  return undefined;
}

/**
 * `startScheduledReconciler` is `skillgate serve`'s hook: it schedules the reconciler when
 * `reconciler.schedule` is set, and `stop` ends the schedule and closes its credential providers.
 */
export function startScheduledReconciler(config: Config, store: Store, log: Log): { stop(): Promise<void> } | undefined {
  if (config.reconciler?.schedule === undefined) return undefined;
  const deps = createReconcileDeps(config, store);
  const schedule = scheduleReconciler(deps, log);
  log.info({ schedule: config.reconciler.schedule }, 'reconciler scheduled');
  return {
    async stop() {
      await schedule.stop();
      deps.close();
    },
  };
}
