// `npm run demo`: the whole story on this machine, without network. A broker (SQLite in a temp
// folder) proxies to the stub Anthropic upstream; a local GitHub-shaped OIDC issuer plays the
// runner's ID-token endpoint. The committed dist/main.js and dist/post.js run as a runner runs
// them; in between, "workflow steps" call Claude with the official SDK through what main exported.
import Anthropic, { PermissionDeniedError } from '@anthropic-ai/sdk';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRunnerJob, ROOT, runNode, runnerLog, type StepResult } from '../test/action/runner.ts';
import { ALLOWED_MODEL, DENIED_MODEL, startStack, TEST_AUDIENCE } from '../test/action/stack.ts';

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const indent = (text: string) => text.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
const heading = (text: string) => console.log(`\n${bold(`── ${text} `.padEnd(78, '─'))}`);

function showStep(result: StepResult): void {
  console.log(indent(runnerLog(result.stdout) || '(no output)'));
  if (result.stderr.trim()) console.log(indent(result.stderr));
  console.log(`    → exit code ${result.code}`);
  if (result.code !== 0) throw new Error('the step failed; see its log above');
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run bundle` first');
  const stack = await startStack();
  const job = createRunnerJob({ idTokenRequest: stack.idTokenRequest });
  try {
    heading('Setup');
    console.log(`broker      ${stack.broker.url}  (SQLite in ${stack.broker.dir}; upstream: stub Anthropic API at ${stack.stub.url})`);
    console.log(`OIDC issuer ${stack.issuer.url}  (runner ID-token endpoint for octo-org/octo-repo, push to main)`);
    console.log(`policy      ci: messages:create models:read skills:read, models claude-sonnet-5*, custom tools, ttl 15m`);

    const inputs = { 'broker-url': stack.broker.url, audience: TEST_AUDIENCE, justification: 'demo: summarize the release notes' };
    heading('Step 1 · uses: skillgate/action (dist/main.js)');
    showStep(await job.runMain(inputs));
    const env = job.exported();
    const token = env['ANTHROPIC_API_KEY'] ?? '';
    console.log(`    GITHUB_ENV now exports ${Object.keys(env).join(', ')}`);

    heading('Step 2 · run: node examples/workflows/ask-claude.mjs (plain SDK script)');
    const script = await runNode(join(ROOT, 'examples', 'workflows', 'ask-claude.mjs'), job.stepEnv({}, { ...env, CLAUDE_MODEL: ALLOWED_MODEL }), ROOT);
    console.log(indent(script.stdout + script.stderr));
    if (script.code !== 0) throw new Error('the SDK script failed');

    heading(`Step 3 · SDK calls outside the grant and with a secret in the reply`);
    const sdk = new Anthropic({ baseURL: env['ANTHROPIC_BASE_URL'], apiKey: token, maxRetries: 0 });
    const ask = { model: ALLOWED_MODEL, max_tokens: 256, messages: [{ role: 'user' as const, content: 'hello' }] };
    try {
      await sdk.messages.create({ ...ask, model: DENIED_MODEL });
      throw new Error(`${DENIED_MODEL} was not refused`);
    } catch (err) {
      if (!(err instanceof PermissionDeniedError)) throw err;
      console.log(indent(`${DENIED_MODEL}: blocked, ${err.constructor.name} ${err.status}: ${err.error ? JSON.stringify((err.error as { error?: { message?: string } }).error?.message) : err.message}`));
    }
    const masked = await sdk.messages.create({ ...ask, messages: [{ role: 'user', content: 'please echo-secret' }] });
    console.log(indent(`echo-secret: the reply reached the job as ${JSON.stringify(masked.content.map((b) => (b.type === 'text' ? b.text : '')).join(''))}`));

    heading('Post · skillgate/action (dist/post.js)');
    showStep(await job.runPost(inputs));
    const whoami = await fetch(`${stack.broker.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    console.log(`    GET /v1/whoami with the token now → ${whoami.status} ${((await whoami.json()) as { reason?: string }).reason ?? ''}`);

    heading('Job summary (GITHUB_STEP_SUMMARY)');
    console.log(job.summary());
  } finally {
    job.close();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
