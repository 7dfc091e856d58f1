// What the runner tells a step about the run, read from its environment and event payload.
// The toolkit's `github.context` is a module-level singleton read at import; this is a function
// of the environment it is given, so tests and the post step read exactly what they pass.
import { readFileSync } from 'node:fs';

export interface PullRequestRef {
  number: number;
  /** The head branch lives in another repository: GitHub gives such runs no ID token. */
  fromFork: boolean;
  headRepository?: string;
}

export interface RunContext {
  eventName: string;
  /** owner/name */
  repository: string;
  actor: string;
  workflow: string;
  job: string;
  runId: string;
  runAttempt: string;
  serverUrl: string;
  apiUrl: string;
  pullRequest?: PullRequestRef;
}

type Env = Record<string, string | undefined>;

/** `readRunContext` reads the GITHUB_* variables and, for pull-request events, the event payload. */
export function readRunContext(env: Env): RunContext {
  const pullRequest = readPullRequest(env['GITHUB_EVENT_PATH']);
  return {
    eventName: env['GITHUB_EVENT_NAME'] ?? '',
    repository: env['GITHUB_REPOSITORY'] ?? '',
    actor: env['GITHUB_ACTOR'] ?? '',
    workflow: env['GITHUB_WORKFLOW'] ?? '',
    job: env['GITHUB_JOB'] ?? '',
    runId: env['GITHUB_RUN_ID'] ?? '',
    runAttempt: env['GITHUB_RUN_ATTEMPT'] ?? '',
    serverUrl: (env['GITHUB_SERVER_URL'] ?? 'https://github.com').replace(/\/+$/, ''),
    apiUrl: (env['GITHUB_API_URL'] ?? 'https://api.github.com').replace(/\/+$/, ''),
    ...(pullRequest && { pullRequest }),
  };
}

/** `runUrl` links the workflow run, for the summary and the PR comment. */
export function runUrl(ctx: RunContext): string | undefined {
  if (!ctx.repository || !ctx.runId) return undefined;
  return `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}${ctx.runAttempt && ctx.runAttempt !== '1' ? `/attempts/${ctx.runAttempt}` : ''}`;
}

interface EventPayload {
  pull_request?: { number?: unknown; head?: { repo?: { full_name?: unknown } | null }; base?: { repo?: { full_name?: unknown } } };
  issue?: { number?: unknown; pull_request?: unknown };
}

function readPullRequest(eventPath: string | undefined): PullRequestRef | undefined {
  if (!eventPath) return undefined;
  let payload: EventPayload;
  try {
    payload = JSON.parse(readFileSync(eventPath, 'utf8')) as EventPayload;
  } catch {
    return undefined;
  }
  const pr = payload.pull_request;
  if (pr && typeof pr.number === 'number') {
    const head = pr.head?.repo?.full_name;
    const base = pr.base?.repo?.full_name;
    // A deleted fork leaves head.repo null: still not this repository.
    const fromFork = pr.head?.repo === null || (typeof head === 'string' && typeof base === 'string' && head !== base);
    return { number: pr.number, fromFork, ...(typeof head === 'string' && { headRepository: head }) };
  }
  // issue_comment on a pull request: the issue is the PR.
  if (payload.issue?.pull_request && typeof payload.issue.number === 'number') return { number: payload.issue.number, fromFork: false };
  return undefined;
}
