// The one mock of the Action tests: @actions/core, recording what the step told the runner.
// getIDToken still makes the real HTTP call to the runner's ID-token endpoint (the local issuer),
// as the toolkit does, from ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN.
// Use: vi.mock('@actions/core', async () => (await import('./fake-core.ts')).coreModule)

export interface CoreCall {
  fn: string;
  args: unknown[];
}

export const runner = {
  inputs: new Map<string, string>(),
  state: new Map<string, string>(),
  calls: [] as CoreCall[],
  summary: '',
  failed: undefined as string | undefined,
  reset(inputs: Record<string, string> = {}, state: Record<string, string> = {}): void {
    runner.inputs = new Map(Object.entries(inputs));
    runner.state = new Map(Object.entries(state));
    runner.calls = [];
    runner.summary = '';
    runner.failed = undefined;
  },
  /** Arguments of every call to `fn`. */
  args(fn: string): unknown[][] {
    return runner.calls.filter((c) => c.fn === fn).map((c) => c.args);
  },
  /** Name → value of setOutput / exportVariable / saveState calls. */
  pairs(fn: 'setOutput' | 'exportVariable' | 'saveState'): Record<string, string> {
    return Object.fromEntries(runner.args(fn).map(([name, value]) => [String(name), String(value)]));
  },
  /** Everything written to the log (info, warning, groups, failure), one entry per call. */
  log(): string[] {
    return runner.calls.filter((c) => ['info', 'warning', 'debug', 'error', 'notice', 'startGroup', 'setFailed'].includes(c.fn)).map((c) => `${c.fn}: ${String(c.args[0])}`);
  },
};

const record = (fn: string) => (...args: unknown[]) => void runner.calls.push({ fn, args });

let pendingSummary = '';
const summary = {
  addRaw(text: string) {
    runner.calls.push({ fn: 'summary.addRaw', args: [text] });
    pendingSummary += text;
    return summary;
  },
  async write() {
    runner.summary += pendingSummary;
    pendingSummary = '';
    return summary;
  },
};

export const coreModule = {
  getInput: (name: string) => {
    runner.calls.push({ fn: 'getInput', args: [name] });
    return (runner.inputs.get(name) ?? '').trim();
  },
  getState: (name: string) => runner.state.get(name) ?? '',
  setSecret: record('setSecret'),
  setOutput: record('setOutput'),
  exportVariable: record('exportVariable'),
  saveState: (name: string, value: unknown) => {
    runner.calls.push({ fn: 'saveState', args: [name, value] });
    runner.state.set(name, String(value));
  },
  setFailed: (message: string | Error) => {
    runner.calls.push({ fn: 'setFailed', args: [message] });
    runner.failed = String(message instanceof Error ? message.message : message);
  },
  info: record('info'),
  debug: record('debug'),
  warning: record('warning'),
  error: record('error'),
  notice: record('notice'),
  startGroup: record('startGroup'),
  endGroup: record('endGroup'),
  summary,
  async getIDToken(audience?: string): Promise<string> {
    runner.calls.push({ fn: 'getIDToken', args: [audience] });
    const url = process.env['ACTIONS_ID_TOKEN_REQUEST_URL'];
    const token = process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
    if (!url || !token) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable');
    const res = await fetch(`${url}${audience ? `&audience=${encodeURIComponent(audience)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`Failed to get ID Token. Error Code : ${res.status}`);
    const value = ((await res.json()) as { value?: string }).value;
    if (!value) throw new Error('Response json body do not have ID Token field');
    runner.calls.push({ fn: 'setSecret', args: [value] });
    return value;
  },
};
