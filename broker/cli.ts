import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { registerApprovalCommands } from './approvals/approval-commands.ts';
import { registerAuditCommands } from './audit/audit-commands.ts';
import { ConfigError, loadConfig, type Config } from './config/load-config.ts';
import { recordEvent } from './audit/record-event.ts';
import { describeToken } from './http/admin-routes.ts';
import { explainPolicies, formatPolicies } from './policy/explain.ts';
import { registerReconcileCommands } from './reconcile/reconcile-commands.ts';
import { openSqliteStore } from './store/sqlite-store.ts';

const program = new Command('skillgate').description('Credential broker and enforcing proxy for Claude in CI').showHelpAfterError();
const configOption = () => new Option('-c, --config <path>', 'config file').env('SKILLGATE_CONFIG').makeOptionMandatory();

program
  .command('serve')
  .description('run the broker')
  .addOption(configOption())
  .option('--host <host>', 'listen address (overrides listen.host)')
  .option('--port <port>', 'listen port (overrides listen.port)', (v) => Number.parseInt(v, 10))
  .action(async (opts: { config: string; host?: string; port?: number }) => {
    const config = load(opts.config);
    // Loaded here so policy and tokens commands do not pay for the server's modules.
    const { serve } = await import('./server.ts');
    await serve(config, { host: opts.host ?? config.listen.host, port: opts.port ?? config.listen.port });
  });

const policy = program.command('policy').description('check and explain trust policies');
policy
  .command('check')
  .argument('<config>', 'config file')
  .description('validate a config file and print the compiled policies')
  .action((path: string) => {
    const config = load(path);
    console.log(formatPolicies(config));
    for (const w of config.warnings) console.log(`warning: ${w}`);
  });
policy
  .command('explain')
  .argument('<config>', 'config file')
  .requiredOption('--claims <file>', 'JSON file with the claims of an ID token')
  .description('tell which policy matches a set of claims and why, or why none does')
  .action((path: string, opts: { claims: string }) => {
    const config = load(path);
    const claims = JSON.parse(readFileSync(opts.claims, 'utf8')) as Record<string, unknown>;
    const { text, matched } = explainPolicies(config, claims);
    console.log(text);
    process.exitCode = matched ? 0 : 1;
  });

const tokens = program.command('tokens').description('list and revoke minted tokens');
tokens
  .command('list')
  .addOption(configOption())
  .option('--active', 'only tokens that are neither expired nor revoked')
  .option('--policy <name>', 'only tokens of this policy')
  .option('--json', 'print JSON')
  .action(async (opts: { config: string; active?: boolean; policy?: string; json?: boolean }) => {
    const store = openSqliteStore(load(opts.config).storePath);
    const now = Date.now();
    const list = (await store.listTokens({ now, ...(opts.active && { active: true }), ...(opts.policy !== undefined && { policy: opts.policy }) })).map((t) => describeToken(t, now));
    await store.close();
    if (opts.json) return console.log(JSON.stringify(list, null, 2));
    if (list.length === 0) return console.log('no tokens');
    for (const t of list) {
      console.log(`${t.id}  ${t.state.padEnd(7)}  ${t.policy}  ${t.identity.repository ?? t.identity.sub}  run ${t.identity.run_id ?? '-'}  expires ${t.expires_at}`);
    }
  });
tokens
  .command('revoke')
  .argument('<id>', 'token id (tok_…)')
  .addOption(configOption())
  .option('--reason <text>', 'why, for the audit trail', 'revoked_by_operator')
  .action(async (id: string, opts: { config: string; reason: string }) => {
    const store = openSqliteStore(load(opts.config).storePath);
    const now = Date.now();
    const revoked = await store.revokeToken(id, opts.reason, 'cli', now);
    if (revoked) await recordEvent(store, { type: 'token.revoke', at: now, outcome: 'revoked', reason: opts.reason, session: id, data: { by: 'cli' } });
    await store.close();
    if (!revoked) {
      console.error(`no active token with id ${id} (see skillgate tokens list)`);
      process.exitCode = 1;
    } else console.log(`revoked ${id}`);
  });

registerApprovalCommands(program);
registerAuditCommands(program, load);
registerReconcileCommands(program, load);

function load(path: string): Config {
  try {
    return loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

await program.parseAsync(process.argv);
