// A plain Anthropic SDK script, run as a workflow step after skillgate/action: the SDK reads
// ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY from the environment the Action exported, so there is
// no key in the repository, the workflow or this file. `npm run demo` runs this exact script.
/* global process, console */
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic();
const message = await client.messages.create({
  model: process.env.CLAUDE_MODEL ?? 'claude-sonnet-4-5',
  max_tokens: 512,
  messages: [{ role: 'user', content: process.env.PROMPT ?? 'In one sentence: why should CI credentials be short-lived?' }],
});
for (const block of message.content) if (block.type === 'text') console.log(block.text);
console.log(`(${message.usage.input_tokens} input / ${message.usage.output_tokens} output tokens, request ${message._request_id ?? '-'})`);
