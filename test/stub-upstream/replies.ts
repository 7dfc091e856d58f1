import type { FileStore } from './files.ts';
import { newId } from './ids.ts';
import type { Script, ScriptBlock } from './script.ts';

/** What a scripted reply may draw on. Keywords are documented at the top of `messages.ts`. */
export interface ReplyInput {
  userText: string;
  tools: unknown[];
  echoSecret: string;
  files: FileStore;
}

/** `chunk` splits text into `pieces` deltas of near-equal length (by code point). */
export function chunk(text: string, pieces: number): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function text(value: string, pieces = 3): ScriptBlock {
  return { type: 'text', chunks: chunk(value, pieces) };
}

/** Tool input streams as JSON pieces; the first piece is `""`, as the API often sends (§3.5). */
type ToolBlock = Extract<ScriptBlock, { type: 'tool_use' | 'server_tool_use' }>;

function toolUse(type: ToolBlock['type'], name: string, input: unknown, pieces = 2): ToolBlock {
  const id = newId(type === 'tool_use' ? 'toolu' : 'srvtoolu');
  return { type, id, name, input, chunks: ['', ...chunk(JSON.stringify(input), pieces)] };
}

/** The name of the first client tool in the request, so a tool_use reply calls a tool it offered. */
function clientToolName(tools: unknown[]): string {
  for (const tool of tools) {
    const { type, name } = (tool ?? {}) as { type?: unknown; name?: unknown };
    if ((type === undefined || type === 'custom') && typeof name === 'string') return name;
  }
  return 'get_weather';
}

/** The secret is cut in thirds so no single delta holds it (stream E, §3.5). */
function echoSecret({ echoSecret: secret }: ReplyInput): Script {
  const [a = '', b = '', c = ''] = chunk(secret, 3);
  const chunks = [`Here is the value you asked for: ${a}`, b, `${c} and done.`];
  return { blocks: [{ type: 'text', chunks }], stopReason: 'end_turn' };
}

function echoSecretTool({ echoSecret: secret }: ReplyInput): Script {
  return { blocks: [toolUse('tool_use', 'record_note', { note: `the key is ${secret}` }, 4)], stopReason: 'tool_use' };
}

function clientTool({ tools }: ReplyInput): Script {
  const call = toolUse('tool_use', clientToolName(tools), { location: 'San Francisco, CA' });
  return { blocks: [text('Checking the weather.', 1), call], stopReason: 'tool_use' };
}

/** Server tool flow (§3.4): the result arrives whole and names a file the user may download. */
function codeExecution({ files }: ReplyInput): Script {
  const file = files.add({
    filename: 'budget.xlsx',
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    data: Buffer.from('stub spreadsheet bytes'),
    expiresAt: null,
    downloadable: true,
  });
  const call = toolUse('server_tool_use', 'bash_code_execution', { command: 'python /skills/xlsx/scripts/build.py' }, 1);
  const result = {
    type: 'bash_code_execution_tool_result',
    tool_use_id: call.id,
    content: {
      type: 'bash_code_execution_result',
      stdout: 'wrote budget.xlsx\n',
      stderr: '',
      return_code: 0,
      content: [{ type: 'bash_code_execution_output', file_id: file.id }],
    },
  };
  return { blocks: [call, { type: 'whole', block: result }, text('Your spreadsheet is ready.')], stopReason: 'end_turn' };
}

const PROSE = 'The release adds scoped credentials for continuous integration, rotates keys without downtime and records every call. ';

/** `long-stream-N`: N text deltas of about 512 characters each, for throughput benchmarks (at most 20 000). */
function longStream(input: ReplyInput): Script {
  const n = Math.min(20_000, Number(/long-stream-(\d+)/.exec(input.userText.toLowerCase())?.[1] ?? 100));
  const delta = PROSE.repeat(Math.ceil(512 / PROSE.length)).slice(0, 512);
  return { blocks: [{ type: 'text', chunks: Array.from({ length: n }, () => delta) }], stopReason: 'end_turn' };
}

/** Ordered: the first keyword found in the last user message wins, so longer keywords come first. */
export const SCRIPTED_REPLIES: readonly { keyword: string; build: (input: ReplyInput) => Script }[] = [
  { keyword: 'long-stream', build: longStream },
  { keyword: 'echo-secret-tool', build: echoSecretTool },
  { keyword: 'echo-secret', build: echoSecret },
  { keyword: 'tool-use', build: clientTool },
  { keyword: 'code-exec', build: codeExecution },
  { keyword: 'pause-turn', build: () => ({ blocks: [text('Still working on it; send the turn back to continue.')], stopReason: 'pause_turn' }) },
  { keyword: 'refusal', build: () => ({ blocks: [text("I can't help with that request.")], stopReason: 'refusal' }) },
];

export const DEFAULT_REPLY = 'Hello from the stub upstream. How can I help?';

/** `scriptFor` picks the scripted reply for the last user message. */
export function scriptFor(input: ReplyInput): Script {
  const lower = input.userText.toLowerCase();
  const scripted = SCRIPTED_REPLIES.find(({ keyword }) => lower.includes(keyword));
  return scripted ? scripted.build(input) : { blocks: [text(DEFAULT_REPLY)], stopReason: 'end_turn' };
}
