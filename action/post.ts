// The Action's post step: read the session from the audit API while the token still works,
// revoke the token, then write the job summary and (on pull requests) one PR comment. Cleanup
// never fails the job: every problem is a warning. The post step's only toolkit-facing module.
import * as core from '@actions/core';
import * as github from '@actions/github';
import { BrokerRequestError, createBrokerClient, type BrokerClient, type SessionTranscript } from './broker-client.ts';
import { isEntryPoint } from './entry-point.ts';
import { isTransient } from './explain-failure.ts';
import { parsePostInputs, type PostInputs } from './inputs.ts';
import { upsertPrComment, type CommentsApi } from './pr-comment.ts';
import { withRetries } from './retry.ts';
import { readRunContext, runUrl, type RunContext } from './run-context.ts';
import { commentMarker, renderSessionReport, summarizeSession } from './session-report.ts';
import { STATE } from './state.ts';

/** `runPost` is the post step. */
export async function runPost(): Promise<void> {
  try {
    await post();
  } catch (err) {
    core.warning(`skillgate post step: ${(err as Error).message}`);
  }
}

async function post(): Promise<void> {
  const token = core.getState(STATE.token);
  const sessionId = core.getState(STATE.sessionId);
  const brokerUrl = core.getState(STATE.brokerUrl);
  if (!token || !sessionId || !brokerUrl) return core.info('skillgate: the main step issued no token; nothing to revoke or report.');
  core.setSecret(token);
  const inputs = readInputs();
  const ctx = readRunContext(process.env);
  const client = createBrokerClient(brokerUrl);

  // Read first: once revoked, the token can no longer read its own session.
  let transcript: SessionTranscript | undefined;
  let auditError: string | undefined;
  if (inputs.summary || inputs.prComment) {
    try {
      transcript = await readSession(client, token, sessionId);
    } catch (err) {
      auditError = (err as Error).message;
      core.warning(`skillgate: could not read session ${sessionId} from the audit API (${auditError}); the summary will say so`);
    }
  }
  const revoked = await revoke(client, token, sessionId, core.getState(STATE.expiresAt));
  if (transcript) {
    const s = summarizeSession(transcript);
    core.info(`skillgate: session ${sessionId}: ${s.calls} call(s) (${s.ok} allowed, ${s.denied} denied, ${s.failed} failed), ${s.inputTokens} input / ${s.outputTokens} output tokens, ${s.masked} secret(s) masked`);
  }
  if (!inputs.summary && !inputs.prComment) return;
  const url = runUrl(ctx);
  const report = renderSessionReport({ sessionId, revoked, ...(transcript && { transcript }), ...(auditError !== undefined && { auditError }), ...(url !== undefined && { runUrl: url }) });
  if (inputs.summary) {
    try {
      await core.summary.addRaw(report).write();
    } catch (err) {
      core.warning(`skillgate: could not write the job summary (${(err as Error).message})`);
    }
  }
  if (inputs.prComment) await commentOnPullRequest(ctx, inputs, report);
}

/**
 * A call's outcome is recorded when its response ends, so one that ended a moment ago may not be
 * in the audit yet: read again briefly before reporting it as having no outcome.
 */
async function readSession(client: BrokerClient, token: string, sessionId: string): Promise<SessionTranscript> {
  let transcript = await client.session(token, sessionId);
  for (let i = 0; i < 2 && transcript.calls.some((c) => c.outcome === undefined); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    transcript = await client.session(token, sessionId);
  }
  return transcript;
}

function readInputs(): PostInputs {
  try {
    return parsePostInputs((name) => core.getInput(name));
  } catch (err) {
    core.warning(`skillgate: ${(err as Error).message}; using summary: true, pr-comment: false`);
    return { summary: true, prComment: false };
  }
}

/** Revokes with a few retries on transport errors; a failure is a warning naming the way out. */
async function revoke(client: BrokerClient, token: string, sessionId: string, expiresAt: string): Promise<boolean> {
  try {
    await withRetries(() => client.revoke(token), { attempts: 3, retryable: isTransient });
    core.info(`skillgate: token ${sessionId} revoked`);
    return true;
  } catch (err) {
    const why = err instanceof BrokerRequestError ? err.message : String(err);
    core.warning(
      `skillgate: could not revoke token ${sessionId} (${why}). It stops working on its own at ${expiresAt || 'its expiry'}; an operator can revoke it now with \`skillgate tokens revoke ${sessionId}\`.`,
    );
    return false;
  }
}

async function commentOnPullRequest(ctx: RunContext, inputs: PostInputs, report: string): Promise<void> {
  const pr = ctx.pullRequest;
  if (!pr) return core.info('skillgate: pr-comment is on, but this run is not for a pull request; no comment posted.');
  if (inputs.githubToken === undefined) return core.warning('skillgate: pr-comment needs the github-token input (the default is github.token); no comment posted.');
  const [owner = '', repo = ''] = ctx.repository.split('/');
  const octokit = github.getOctokit(inputs.githubToken, { baseUrl: ctx.apiUrl });
  const api: CommentsApi = {
    list: (issue_number) => octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 }),
    create: async (issue_number, body) => (await octokit.rest.issues.createComment({ owner, repo, issue_number, body })).data,
    update: async (comment_id, body) => (await octokit.rest.issues.updateComment({ owner, repo, comment_id, body })).data,
  };
  try {
    const result = await upsertPrComment(api, { issueNumber: pr.number, marker: commentMarker(ctx.workflow, ctx.job), body: report });
    core.info(`skillgate: ${result.action} the report comment on pull request #${pr.number}${result.url ? ` (${result.url})` : ''}`);
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    const hint =
      status === 403 || status === 404
        ? ' Give the job `permissions: pull-requests: write`; pull requests from forks get a read-only token and cannot be commented on this way.'
        : '';
    core.warning(`skillgate: could not comment on pull request #${pr.number} (${(err as Error).message}).${hint}`);
  }
}

if (isEntryPoint(import.meta.url)) void runPost();
