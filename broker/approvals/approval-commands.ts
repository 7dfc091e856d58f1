import { Option, type Command } from 'commander';
import type { describeApproval } from './approval-routes.ts';

type ApprovalView = ReturnType<typeof describeApproval>;

interface BrokerOptions {
  brokerUrl: string;
  token: string;
}

/** The approver's credential is read from the environment so it stays out of shell history and `ps`. */
const brokerOptions = (command: Command) =>
  command
    .addOption(new Option('--broker-url <url>', 'broker base URL').env('SKILLGATE_BROKER_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--token <token>', 'approver credential: an operator token or your ID token').env('SKILLGATE_APPROVER_TOKEN').makeOptionMandatory());

/** `registerApprovalCommands` adds `skillgate approvals list|approve|deny`, which talk to a running broker over HTTP. */
export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('list, approve and deny requests waiting for a human approval');
  brokerOptions(approvals.command('list'))
    .description('list approvals you may decide')
    .option('--state <state>', 'pending, approved, denied, expired, used or all', 'pending')
    .option('--json', 'print JSON')
    .action(async (opts: BrokerOptions & { state: string; json?: boolean }) => {
      const body = await call(opts, 'GET', `/v1/approvals?state=${encodeURIComponent(opts.state)}`);
      if (body === undefined) return;
      const list = (body as { data: ApprovalView[] }).data;
      if (opts.json) return console.log(JSON.stringify(list, null, 2));
      if (list.length === 0) return console.log(`no ${opts.state === 'all' ? '' : `${opts.state} `}approvals`);
      for (const a of list) console.log(formatApproval(a));
    });
  for (const decision of ['approve', 'deny'] as const) {
    brokerOptions(approvals.command(decision).argument('<id>', 'approval id (apr_…)'))
      .description(`${decision} a pending approval`)
      .option('--reason <text>', 'why, for the audit trail')
      .option('--token-id <id>', 'refuse unless the approval is for this token (tok_…)')
      .option('--fingerprint <sha256>', 'refuse unless the approval is for this request fingerprint')
      .action(async (id: string, opts: BrokerOptions & { reason?: string; tokenId?: string; fingerprint?: string }) => {
        const request = { ...(opts.reason !== undefined && { reason: opts.reason }), ...(opts.tokenId !== undefined && { token_id: opts.tokenId }), ...(opts.fingerprint !== undefined && { fingerprint: opts.fingerprint }) };
        const body = await call(opts, 'POST', `/v1/approvals/${encodeURIComponent(id)}/${decision}`, request);
        if (body !== undefined) console.log(`${(body as ApprovalView).state} ${id}`);
      });
  }
}

function formatApproval(a: ApprovalView): string {
  const who = a.requester['repository'] ?? a.requester['email'] ?? a.requester['sub'] ?? '?';
  const what = [a.request.operation, ...a.request.models, ...a.request.tools.map((t) => `tool:${t}`), ...a.request.skills.map((s) => `skill:${s}`)].join(' ');
  const run = a.requester['run_id'] === undefined ? '' : ` run ${a.requester['run_id']}`;
  return `${a.id}  ${a.state.padEnd(8)}  ${a.policy}  ${who}${run}  ${what}  (${a.reasons.join('; ')})${a.justification === undefined ? '' : `  "${a.justification}"`}`;
}

/** One broker call; prints the broker's refusal (its message says what to fix) and sets the exit code. */
async function call(opts: BrokerOptions, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.brokerUrl), {
      method,
      headers: { authorization: `Bearer ${opts.token}`, ...(body && { 'content-type': 'application/json' }) },
      ...(body && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    console.error(`cannot reach the broker at ${opts.brokerUrl} (${(err as Error).message}); check --broker-url / SKILLGATE_BROKER_URL`);
    process.exitCode = 1;
    return undefined;
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { reason?: string; message?: string };
    console.error(`${res.status} ${e.reason ?? 'error'}: ${e.message ?? text.slice(0, 200)}`);
    process.exitCode = 1;
    return undefined;
  }
  return parsed;
}
