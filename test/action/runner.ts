// A GitHub Actions runner, as far as the Action can see one: the per-step command files
// (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY), the event payload, GITHUB_*
// context variables and INPUT_* variables (defaults from action.yml), and `node dist/<step>.js` as
// a child process. Between steps it does what the runner does: exported variables reach later
// steps, saved state reaches the post step as STATE_<name>.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(import.meta.dirname, '..', '..');

/** The run the default OIDC issuer claims describe (octo-org/octo-repo, main, push). */
export const RUN_CONTEXT = {
  GITHUB_ACTIONS: 'true',
  CI: 'true',
  GITHUB_REPOSITORY: 'octo-org/octo-repo',
  GITHUB_REPOSITORY_ID: '74',
  GITHUB_REPOSITORY_OWNER: 'octo-org',
  GITHUB_REPOSITORY_OWNER_ID: '65',
  GITHUB_RUN_ID: '1234567890',
  GITHUB_RUN_NUMBER: '42',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_WORKFLOW: 'release',
  GITHUB_JOB: 'claude',
  GITHUB_ACTION: 'skillgate',
  GITHUB_ACTOR: 'octocat',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9001122334',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_API_URL: 'https://api.github.com',
  RUNNER_OS: 'Linux',
} as const;

/** What `${{ github.token }}` evaluates to in these runs (the fake GitHub API accepts it). */
export const FAKE_GITHUB_TOKEN = 'ghs_fakeRunnerToken000000000000000000000';

export interface StepResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunnerJob {
  dir: string;
  files: { env: string; output: string; state: string; summary: string; event: string };
  /** The environment of a step: context, command files, inputs (action.yml defaults filled in), extras. */
  stepEnv(inputs: Record<string, string>, extra?: Record<string, string | undefined>): Record<string, string>;
  /** Runs `dist/main.js` as the runner runs an Action's main step. */
  runMain(inputs: Record<string, string>, extra?: Record<string, string | undefined>): Promise<StepResult>;
  /** Runs `dist/post.js` with the exported variables and saved state of the main step. */
  runPost(inputs: Record<string, string>, extra?: Record<string, string | undefined>): Promise<StepResult>;
  /** GITHUB_ENV as parsed entries: what later steps see. */
  exported(): Record<string, string>;
  outputs(): Record<string, string>;
  state(): Record<string, string>;
  summary(): string;
  close(): void;
}

export interface RunnerJobOptions {
  /** The runner's ID-token endpoint; omitted = the job has no `id-token: write`. */
  idTokenRequest?: { url: string; token: string };
  eventName?: string;
  eventPayload?: Record<string, unknown>;
  context?: Record<string, string>;
  /** The action to run: `dist/` of this repository by default. */
  actionDir?: string;
}

/** `createRunnerJob` prepares one job's files in a temp folder. */
export function createRunnerJob(opts: RunnerJobOptions = {}): RunnerJob {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-runner-'));
  const files = { env: join(dir, 'env'), output: join(dir, 'output'), state: join(dir, 'state'), summary: join(dir, 'step_summary'), event: join(dir, 'event.json') };
  for (const file of [files.env, files.output, files.state, files.summary]) writeFileSync(file, '');
  writeFileSync(files.event, JSON.stringify(opts.eventPayload ?? {}));
  const actionDir = opts.actionDir ?? ROOT;
  const defaults = actionDefaults(actionDir);

  const stepEnv: RunnerJob['stepEnv'] = (inputs, extra = {}) => {
    const env: Record<string, string | undefined> = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      TMPDIR: process.env['TMPDIR'],
      SYSTEMROOT: process.env['SYSTEMROOT'],
      ...RUN_CONTEXT,
      ...(opts.eventName !== undefined && { GITHUB_EVENT_NAME: opts.eventName }),
      ...opts.context,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_ENV: files.env,
      GITHUB_OUTPUT: files.output,
      GITHUB_STATE: files.state,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_WORKSPACE: dir,
      RUNNER_TEMP: dir,
      ...(opts.idTokenRequest && { ACTIONS_ID_TOKEN_REQUEST_URL: opts.idTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: opts.idTokenRequest.token }),
      ...inputEnv({ ...defaults, ...inputs }),
      ...extra,
    };
    return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  };

  const job: RunnerJob = {
    dir,
    files,
    stepEnv,
    runMain: (inputs, extra) => runNode(join(actionDir, 'dist', 'main.js'), stepEnv(inputs, extra), dir),
    runPost: (inputs, extra) => {
      const state = Object.fromEntries(Object.entries(job.state()).map(([name, value]) => [`STATE_${name}`, value]));
      return runNode(join(actionDir, 'dist', 'post.js'), stepEnv(inputs, { ...job.exported(), ...state, ...extra }), dir);
    },
    exported: () => parseFileCommands(readFileSync(files.env, 'utf8')),
    outputs: () => parseFileCommands(readFileSync(files.output, 'utf8')),
    state: () => parseFileCommands(readFileSync(files.state, 'utf8')),
    summary: () => readFileSync(files.summary, 'utf8'),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
  return job;
}

/** `inputEnv` names inputs as the runner does: INPUT_ + the name upper-cased, spaces to underscores. */
export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]));
}

/** Input defaults from action.yml, with `${{ github.token }}` evaluated as the runner would. */
export function actionDefaults(actionDir = ROOT): Record<string, string> {
  const action = parse(readFileSync(join(actionDir, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  return Object.fromEntries(
    Object.entries(action.inputs)
      .filter(([, input]) => input.default !== undefined)
      .map(([name, input]) => [name, String(input.default).replace('${{ github.token }}', FAKE_GITHUB_TOKEN)]),
  );
}

/**
 * `parseFileCommands` reads GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE the way the runner does:
 * `name<<DELIMITER` … `DELIMITER` blocks (what @actions/core writes) and `name=value` lines.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delimiter, i + 1);
      if (end === -1) throw new Error(`file command ${name}: no closing delimiter`);
      entries[name] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      entries[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return entries;
}

/** `workflowCommands` decodes `::name::message` lines (`%0A` → newline …) from a step's stdout. */
export function workflowCommands(stdout: string, name: string): string[] {
  const prefix = new RegExp(`^::${name}(?: [^:]*)?::`);
  return stdout
    .split('\n')
    .filter((line) => prefix.test(line))
    .map((line) => line.replace(prefix, '').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%'));
}

/** Runs a script with exactly `env`, as the runner starts an Action (no inherited variables). */
export function runNode(script: string, env: Record<string, string>, cwd: string): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const LOG_LABELS: Record<string, string> = { group: '▸ ', error: 'Error: ', warning: 'Warning: ', notice: 'Notice: ' };

/**
 * `runnerLog` renders a step's stdout as the job log shows it: workflow commands applied, values
 * registered with `::add-mask::` replaced by `***`, debug lines hidden.
 */
export function runnerLog(stdout: string): string {
  const masks = workflowCommands(stdout, 'add-mask').filter((m) => m !== '');
  const shown: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '' || line.startsWith('::add-mask::') || line.startsWith('::debug::') || line === '::endgroup::') continue;
    const command = /^::(group|error|warning|notice)(?: [^:]*)?::/.exec(line);
    const text = command ? workflowCommands(line, command[1]!)[0]! : line;
    shown.push((command ? LOG_LABELS[command[1]!] ?? '' : '') + text);
  }
  return masks.reduce((log, secret) => log.split(secret).join('***'), shown.join('\n'));
}
