// Scheduling with node-cron: a slot missed while no broker ran is caught up at start-up, once
// across replicas, and runs never overlap within a process.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTask } from 'node-cron';
import { reconcile, type RunOptions, type RunOutcome } from '../../broker/reconcile/reconcile.ts';
import type { ReconcileDeps } from '../../broker/reconcile/reconcile-deps.ts';
import { lastSlot, scheduleReconciler } from '../../broker/reconcile/schedule-reconciler.ts';
import { HOUR, tempStore, testConfig, testDeps, type TempStore } from './fixtures.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
let db: TempStore;
beforeEach(() => void (db = tempStore()));
afterEach(() => db.close());

const deps = (schedule: string, now = Date.now()) => testDeps(testConfig({ schedule, timezone: 'UTC' }), db.store, now);

describe('lastSlot', () => {
  const every15 = createTask('*/15 * * * *', () => undefined, { timezone: 'UTC' });
  it.each([
    ['2026-06-01T12:07:30Z', '2026-06-01T11:00:00Z', '2026-06-01T12:00:00.000Z'],
    ['2026-06-01T12:15:00Z', '2026-06-01T11:00:00Z', '2026-06-01T12:15:00.000Z'],
    ['2026-06-01T12:07:30Z', '2026-06-01T12:01:00Z', undefined],
  ])('at %s, after a run at %s, the missed slot is %s', (now, since, slot) => {
    const found = lastSlot(every15, Date.parse(now), Date.parse(since));
    expect(found === undefined ? undefined : new Date(found).toISOString()).toBe(slot);
  });
});

describe('start-up catch-up', () => {
  it('runs the slot missed since the last run once, however many replicas start for it', async () => {
    const now = Date.now();
    await db.store.saveReport({ id: 'rpt_0000000000000old', startedAt: now - 3 * HOUR, finishedAt: now - 3 * HOUR, summary: {}, body: '{}' });
    const replicas = [scheduleReconciler(deps('0 * * * *', now), quiet), scheduleReconciler(testDeps(testConfig({ schedule: '0 * * * *' }), db.reopen(), now), quiet)];
    const outcomes = await Promise.all(replicas.map((r) => r.catchUp));
    await Promise.all(replicas.map((r) => r.stop()));
    expect(outcomes.map((o) => o?.status).sort()).toEqual(['completed', 'skipped']);
    expect(outcomes.find((o) => o?.status === 'completed')).toMatchObject({ report: { trigger: 'catch_up' } });
    expect(await db.store.listReports(10)).toHaveLength(2);

    const later = scheduleReconciler(deps('0 * * * *', now + 1000), quiet);
    expect(await later.catchUp).toBeUndefined();
    await later.stop();
  });

  it('does nothing at start-up when no slot passed since the last run', async () => {
    const now = Date.now();
    await db.store.saveReport({ id: 'rpt_0000000000000new', startedAt: now - 1000, finishedAt: now - 1000, summary: {}, body: '{}' });
    const schedule = scheduleReconciler(deps('0 0 1 1 *', now), quiet);
    expect(await schedule.catchUp).toBeUndefined();
    await schedule.stop();
  });
});

describe('scheduled runs', () => {
  it('fire on the cron schedule and never overlap in one process', async () => {
    let active = 0;
    let most = 0;
    const triggers: string[] = [];
    const slowRun = async (d: ReconcileDeps, opts: RunOptions): Promise<RunOutcome> => {
      active++;
      most = Math.max(most, active);
      triggers.push(opts.trigger);
      await new Promise((r) => setTimeout(r, 1500));
      active--;
      return reconcile(d, opts);
    };
    const schedule = scheduleReconciler(deps('* * * * * *'), quiet, slowRun);
    await new Promise((r) => setTimeout(r, 3500));
    await schedule.stop();
    expect(triggers.length).toBeGreaterThanOrEqual(2);
    expect(triggers).toContain('schedule');
    expect(most).toBe(1);
  });
});
