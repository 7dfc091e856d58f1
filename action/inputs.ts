// The Action's inputs, parsed and checked before anything leaves the runner. No toolkit import:
// `main.ts` passes `core.getInput` in, tests pass a plain lookup.

/** Reads one input by its action.yml name; returns '' when unset, as `core.getInput` does. */
export type GetInput = (name: string) => string;

export interface ActionInputs {
  /** The broker's base URL without a trailing slash; also the Anthropic base URL (the proxy). */
  brokerUrl: string;
  audience: string;
  /** Space-separated scopes narrowing the policy's grant; undefined asks for the whole grant. */
  scope?: string;
  /** Requested lifetime in seconds; the policy's ttl caps it. */
  ttlSeconds?: number;
  justification?: string;
  exportEnv: boolean;
  summary: boolean;
  prComment: boolean;
  githubToken?: string;
}

/** What the post step needs; parsed on its own so a bad main-only input cannot stop the cleanup. */
export type PostInputs = Pick<ActionInputs, 'summary' | 'prComment' | 'githubToken'>;

/** An input the user must fix; the message quotes the input name and the accepted forms. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };
const MAX_TTL_SECONDS = 24 * 3600;
const MAX_JUSTIFICATION = 500;
const SCOPE = /^[a-z][a-z0-9_-]*:[a-z*][a-z0-9_*-]*$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `parseInputs` reads every input of the main step and reports all problems in one error. */
export function parseInputs(getInput: GetInput): ActionInputs {
  const problems: string[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  const brokerUrl = attempt(() => parseBrokerUrl(getInput('broker-url')));
  const audience = getInput('audience').trim() || brokerUrl;
  const scope = attempt(() => parseScope(getInput('scope')));
  const ttlSeconds = attempt(() => parseTtl(getInput('ttl')));
  const justification = attempt(() => parseJustification(getInput('justification')));
  const post = attempt(() => parsePostInputs(getInput));
  const exportEnv = attempt(() => parseBoolean(getInput, 'export-env', true));
  if (problems.length > 0 || brokerUrl === undefined || audience === undefined || post === undefined || exportEnv === undefined) {
    throw new InputError(problems.join('\n'));
  }
  return {
    brokerUrl,
    audience,
    exportEnv,
    ...post,
    ...(scope !== undefined && { scope }),
    ...(ttlSeconds !== undefined && { ttlSeconds }),
    ...(justification !== undefined && { justification }),
  };
}

/** `parsePostInputs` reads the inputs the post step uses (summary, PR comment, GitHub token). */
export function parsePostInputs(getInput: GetInput): PostInputs {
  const githubToken = getInput('github-token').trim();
  const summary = parseBoolean(getInput, 'summary', true);
  const prComment = parseBoolean(getInput, 'pr-comment', false);
  return { summary, prComment, ...(githubToken !== '' && { githubToken }) };
}

/**
 * `parseBrokerUrl` requires an absolute https URL (plain http only for loopback, where a local
 * broker runs in tests and demos): the token travels to this URL on every call.
 */
export function parseBrokerUrl(raw: string): string {
  const text = raw.trim();
  if (text === '') throw new InputError('input broker-url is required: the https URL of your skillgate broker, e.g. https://skillgate.example.com');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`input broker-url is not a URL: "${text}"; give the broker's base URL, e.g. https://skillgate.example.com`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new InputError(`input broker-url must use https (got ${url.protocol}//${url.host}): the token is sent to it on every call; plain http is accepted only for localhost`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new InputError('input broker-url must not carry credentials, a query or a fragment: give only the base URL, e.g. https://skillgate.example.com');
  }
  return url.href.replace(/\/+$/, '');
}

/** `parseScope` accepts scopes separated by spaces, commas or newlines and returns them space-separated. */
export function parseScope(raw: string): string | undefined {
  const scopes = raw.split(/[\s,]+/).filter((s) => s !== '');
  if (scopes.length === 0) return undefined;
  const bad = scopes.filter((s) => !SCOPE.test(s));
  if (bad.length > 0) {
    throw new InputError(`input scope has ${bad.map((s) => `"${s}"`).join(', ')}: each scope is resource:action, e.g. "messages:create models:read"`);
  }
  return [...new Set(scopes)].join(' ');
}

/** `parseTtl` turns "900", "90s", "15m" or "1h" into seconds. */
export function parseTtl(raw: string): number | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const match = /^(\d+)\s*([smh]?)$/.exec(text);
  const seconds = match ? Number(match[1]) * (TTL_UNITS[match[2] || 's'] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS) {
    throw new InputError(`input ttl is "${text}": give a duration between 1s and 24h such as 900, 90s, 15m or 1h (the policy's ttl caps it)`);
  }
  return seconds;
}

/**
 * `parseJustification` returns one line the broker can show to approvers. It travels as an HTTP
 * header, so control characters (a newline would end the header) are refused rather than mangled.
 */
export function parseJustification(raw: string): string | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  if (/[\p{Cc}\p{Cf}]/u.test(text)) throw new InputError('input justification must be a single line of text, without control characters');
  if (text.length > MAX_JUSTIFICATION) throw new InputError(`input justification is ${text.length} characters; keep it under ${MAX_JUSTIFICATION}`);
  return text;
}

/** `parseBoolean` follows the YAML 1.2 core schema, as `core.getBooleanInput` does; empty means the default. */
export function parseBoolean(getInput: GetInput, name: string, fallback: boolean): boolean {
  const text = getInput(name).trim();
  if (text === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(text)) return true;
  if (['false', 'False', 'FALSE'].includes(text)) return false;
  throw new InputError(`input ${name} is "${text}": use true or false`);
}
