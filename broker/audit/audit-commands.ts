import type { Command } from 'commander';
import type { Config } from '../config/load-config.ts';
import { openSqliteStore } from '../store/sqlite-store.ts';
import { auditFilter, parseCheckpoint, type AuditFilter } from './audit-record.ts';
import { buildTranscript, renderMarkdown } from './render-session.ts';

interface FilterOptions {
  type?: string;
  session?: string;
  repository?: string;
  repositoryId?: string;
  runId?: string;
  pr?: string;
  actor?: string;
  operation?: string;
  outcome?: string;
  since?: string;
  until?: string;
  limit?: string;
}

/** `registerAuditCommands` adds `skillgate audit query|replay|verify|export`, reading the store directly. */
export function registerAuditCommands(program: Command, load: (path: string) => Config): void {
  const audit = program.command('audit').description('query, replay, verify and export the audit trail');
  const withFilters = (c: Command) =>
    c
      .requiredOption('-c, --config <path>', 'config file (SKILLGATE_CONFIG)', process.env['SKILLGATE_CONFIG'])
      .option('--type <type>', 'record type, e.g. proxy.request, token.exchange')
      .option('--session <id>', 'token id (tok_…)')
      .option('--repository <owner/name>')
      .option('--repository-id <id>')
      .option('--run-id <id>')
      .option('--pr <number>')
      .option('--actor <login>')
      .option('--operation <scope>')
      .option('--outcome <outcome>')
      .option('--since <iso time>')
      .option('--until <iso time>');

  withFilters(audit.command('query').description('print matching records, one line each'))
    .option('--limit <n>', 'at most this many', '100')
    .action(async (opts: FilterOptions & { config: string }) => {
      const store = openSqliteStore(load(opts.config).storePath);
      const { records } = await store.queryAudit(toFilter(opts));
      await store.close();
      for (const r of records) {
        console.log(`${r.seq}\t${new Date(r.at).toISOString()}\t${r.type}\t${r.outcome ?? '-'}\t${r.reason ?? '-'}\t${r.operation ?? '-'}\t${r.repository ?? '-'}\t${r.session ?? '-'}\t${r.requestId ?? '-'}`);
      }
    });

  withFilters(audit.command('export').description('write matching records as NDJSON to stdout (all pages)')).action(async (opts: FilterOptions & { config: string }) => {
    const store = openSqliteStore(load(opts.config).storePath);
    let after: number | undefined;
    do {
      const page = await store.queryAudit({ ...toFilter(opts), limit: 1000, ...(after !== undefined && { after }) });
      for (const r of page.records) process.stdout.write(`${JSON.stringify(r)}\n`);
      after = page.nextCursor;
    } while (after !== undefined);
    await store.close();
  });

  audit
    .command('replay')
    .argument('<session>', 'token id (tok_…)')
    .requiredOption('-c, --config <path>', 'config file (SKILLGATE_CONFIG)', process.env['SKILLGATE_CONFIG'])
    .option('--format <md|json>', 'output format', 'md')
    .description('render one session as a transcript')
    .action(async (session: string, opts: { config: string; format: string }) => {
      const store = openSqliteStore(load(opts.config).storePath);
      const transcript = buildTranscript(session, await store.getToken(session), await store.auditSession(session));
      await store.close();
      console.log(opts.format === 'json' ? JSON.stringify(transcript, null, 2) : renderMarkdown(transcript));
    });

  audit
    .command('verify')
    .requiredOption('-c, --config <path>', 'config file (SKILLGATE_CONFIG)', process.env['SKILLGATE_CONFIG'])
    .option('--checkpoint <seq:hash>', 'a link written down earlier (the broker logs one as audit_checkpoint): the trail must still reach it')
    .description('check the hash chain; exit 1 naming the first broken link')
    .action(async (opts: { config: string; checkpoint?: string }) => {
      const checkpoint = opts.checkpoint === undefined ? undefined : parseCheckpoint(opts.checkpoint);
      if (opts.checkpoint !== undefined && checkpoint === undefined) {
        console.error('--checkpoint takes <seq>:<hash>, as the broker logs it (audit_checkpoint), e.g. 1042:3f9a…');
        process.exitCode = 2;
        return;
      }
      const store = openSqliteStore(load(opts.config).storePath);
      const check = await store.verifyAudit(checkpoint);
      await store.close();
      if (check.ok) console.log(`ok: ${check.records} records, head ${check.head}`);
      else {
        console.error(`broken at record ${check.brokenAt}: ${check.problem} (${check.records} records before it verify)`);
        process.exitCode = 1;
      }
    });
}

function toFilter(o: FilterOptions & { config?: string }): AuditFilter {
  const { since, until, limit, config: _config, ...fields } = o;
  return auditFilter({
    ...fields,
    since: since === undefined ? undefined : Date.parse(since),
    until: until === undefined ? undefined : Date.parse(until),
    limit: limit === undefined ? undefined : Number(limit),
  });
}
