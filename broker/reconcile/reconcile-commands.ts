import { Option, type Command } from 'commander';
import type { Config } from '../config/load-config.ts';
import { openSqliteStore } from '../store/sqlite-store.ts';
import { findReport } from './report/find-report.ts';
import { renderHtml } from './report/render-html.ts';
import { renderMarkdown } from './report/render-markdown.ts';
import type { RevocationReport } from './report/report-schema.ts';

type Format = 'md' | 'json' | 'html';
const formatOption = () => new Option('--format <format>', 'output format').choices(['md', 'json', 'html']).default('md');
const configOption = () => new Option('-c, --config <path>', 'config file').env('SKILLGATE_CONFIG').makeOptionMandatory();

/** Exit status when another broker holds the reconciler lease: nothing was done, try again later. */
export const EXIT_SKIPPED = 3;

/** `registerReconcileCommands` adds `skillgate reconcile --once [--dry-run]` and `skillgate report`. */
export function registerReconcileCommands(program: Command, load: (path: string) => Config): void {
  program
    .command('reconcile')
    .description('revoke what should no longer work and write a revocation report (the scheduled work, on demand)')
    .addOption(configOption())
    .requiredOption('--once', 'run once now (scheduled runs belong to skillgate serve)')
    .option('--dry-run', 'check and report only: revoke, deactivate, record and deliver nothing')
    .addOption(formatOption())
    .action(async (opts: { config: string; dryRun?: boolean; format: Format }) => {
      const config = load(opts.config);
      if (!config.reconciler) {
        console.error(`${opts.config}: no reconciler section; add reconciler: (see README, "Reconcile")`);
        process.exitCode = 2;
        return;
      }
      // Loaded here so other commands do not pay for Octokit and the checks.
      const [{ reconcile }, { createReconcileDeps }] = await Promise.all([import('./reconcile.ts'), import('./reconcile-deps.ts')]);
      const store = openSqliteStore(config.storePath);
      const deps = createReconcileDeps(config, store);
      try {
        const outcome = await reconcile(deps, { trigger: 'cli', dryRun: opts.dryRun === true });
        if (outcome.status === 'skipped') {
          console.error(`nothing done: ${outcome.reason}`);
          process.exitCode = EXIT_SKIPPED;
          return;
        }
        console.log(render(outcome.report, opts.format));
      } finally {
        deps.close();
        await store.close();
      }
    });

  program
    .command('report')
    .description('print the latest revocation report (or one by id)')
    .addOption(configOption())
    .option('--id <id>', 'a report id (rpt_…) instead of the latest')
    .addOption(formatOption())
    .action(async (opts: { config: string; id?: string; format: Format }) => {
      const store = openSqliteStore(load(opts.config).storePath);
      try {
        const report = await findReport(store, opts.id);
        if (!report) {
          console.error(opts.id === undefined ? 'no revocation report yet; run skillgate reconcile --once' : `no report ${opts.id}`);
          process.exitCode = 1;
          return;
        }
        console.log(render(report, opts.format));
      } finally {
        await store.close();
      }
    });
}

/** `render` turns a report into the asked format. */
export function render(report: RevocationReport, format: Format): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  return format === 'html' ? renderHtml(report) : renderMarkdown(report);
}
