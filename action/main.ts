// The Action's main step: GitHub OIDC token → skillgate token, masked, exported for later steps,
// and saved for the post step. The only module of the main step that touches @actions/core.
import * as core from '@actions/core';
import { anthropicEnv } from './anthropic-env.ts';
import { BrokerRequestError, createBrokerClient, type BrokerClient, type IssuedToken } from './broker-client.ts';
import { describeTokenLines } from './describe-token.ts';
import { isEntryPoint } from './entry-point.ts';
import { ActionFailure, checkOidcEnvironment, explainExchangeFailure, isTransient, readIdTokenClaims } from './explain-failure.ts';
import { InputError, parseInputs, type ActionInputs } from './inputs.ts';
import { withRetries } from './retry.ts';
import { readRunContext } from './run-context.ts';
import { STATE } from './state.ts';

const ATTEMPTS = 3;

/** `run` is the main step; every failure ends in `core.setFailed` with what to fix. */
export async function run(): Promise<void> {
  let inputs: ActionInputs | undefined;
  try {
    inputs = parseInputs((name) => core.getInput(name));
    checkOidcEnvironment(process.env, readRunContext(process.env));
    const client = createBrokerClient(inputs.brokerUrl);
    const issued = await exchange(inputs, client);
    const token = issued.access_token;
    // Mask first: from here on the runner replaces the token in every log line of the job.
    core.setSecret(token);
    // Saved before anything else can fail, so the post step revokes a token this step got.
    core.saveState(STATE.token, token);
    core.saveState(STATE.sessionId, issued.token_id);
    core.saveState(STATE.brokerUrl, inputs.brokerUrl);
    core.saveState(STATE.expiresAt, issued.expires_at);
    core.setOutput('token', token);
    core.setOutput('base-url', inputs.brokerUrl);
    core.setOutput('expires-at', issued.expires_at);
    core.setOutput('session-id', issued.token_id);
    const exported = inputs.exportEnv
      ? anthropicEnv({ baseUrl: inputs.brokerUrl, token, ...(inputs.justification !== undefined && { justification: inputs.justification }), ...(process.env['ANTHROPIC_CUSTOM_HEADERS'] !== undefined && { existingCustomHeaders: process.env['ANTHROPIC_CUSTOM_HEADERS'] }) })
      : {};
    for (const [name, value] of Object.entries(exported)) core.exportVariable(name, value);
    await showToken(client, token);
    core.info(
      `skillgate: token ${issued.token_id} (policy ${issued.policy}, scopes ${issued.scope}) expires ${issued.expires_at}. ` +
        (inputs.exportEnv ? `Exported ${Object.keys(exported).join(', ')}: later steps reach Claude through ${inputs.brokerUrl}.` : 'export-env is false: use the outputs token and base-url.'),
    );
  } catch (err) {
    if (err instanceof InputError) return core.setFailed(`skillgate: invalid input\n${err.message}`);
    core.setFailed(explainExchangeFailure(err, { brokerUrl: inputs?.brokerUrl ?? '', audience: inputs?.audience ?? '' }));
  }
}

/**
 * Each attempt asks the runner for a fresh ID token: the broker accepts a token once, and a failed
 * attempt may have spent it. Only transport failures and 502–504 are retried; a refusal is final.
 */
async function exchange(inputs: ActionInputs, client: BrokerClient): Promise<IssuedToken> {
  let claims: Record<string, unknown> | undefined;
  try {
    return await withRetries(
      async () => {
        const idToken = await requestIdToken(inputs.audience);
        claims = readIdTokenClaims(idToken);
        return await client.exchange({ subjectToken: idToken, ...(inputs.scope !== undefined && { scope: inputs.scope }), ...(inputs.ttlSeconds !== undefined && { ttlSeconds: inputs.ttlSeconds }) });
      },
      { attempts: ATTEMPTS, retryable: isTransient, onRetry: (err, n, ms) => core.info(`skillgate: token exchange attempt ${n} failed (${(err as Error).message}); retrying in ${ms / 1000}s`) },
    );
  } catch (err) {
    if (err instanceof BrokerRequestError && err.kind === 'refused' && claims !== undefined) {
      core.startGroup('skillgate: this job\'s OIDC claims (save as claims.json for `skillgate policy explain`)');
      core.info(JSON.stringify(claims, null, 2));
      core.endGroup();
    }
    throw err;
  }
}

async function requestIdToken(audience: string): Promise<string> {
  try {
    return await withRetries(() => core.getIDToken(audience), {
      attempts: ATTEMPTS,
      onRetry: (_err, n, ms) => core.info(`skillgate: ID token request attempt ${n} failed; retrying in ${ms / 1000}s`),
    });
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
    throw new ActionFailure(
      `skillgate: the runner's ID-token endpoint gave no token after ${ATTEMPTS} attempts (${why}).\nFix: this is on GitHub's side (or the runner's network to it); re-run the job, and check https://www.githubstatus.com for Actions incidents.`,
    );
  }
}

/** Logs what the broker verified and granted, from `GET /v1/whoami` — never the token. */
async function showToken(client: BrokerClient, token: string): Promise<void> {
  try {
    const description = await client.whoami(token);
    core.startGroup(`skillgate: verified identity — policy ${description.policy}`);
    for (const line of describeTokenLines(description, Date.now())) core.info(line);
    core.endGroup();
  } catch (err) {
    core.warning(`skillgate: the token was issued but the broker could not describe it (${(err as Error).message}); continuing`);
  }
}

if (isEntryPoint(import.meta.url)) void run();
