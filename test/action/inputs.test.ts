import { describe, expect, it } from 'vitest';
import { anthropicEnv } from '../../action/anthropic-env.ts';
import { InputError, parseBrokerUrl, parseInputs, parsePostInputs, parseScope, parseTtl } from '../../action/inputs.ts';

const from = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

describe('parseInputs', () => {
  it('fills the defaults: audience is the broker URL, env exported, summary on, no PR comment', () => {
    expect(parseInputs(from({ 'broker-url': 'https://skillgate.example.com/' }))).toEqual({
      brokerUrl: 'https://skillgate.example.com',
      audience: 'https://skillgate.example.com',
      exportEnv: true,
      summary: true,
      prComment: false,
    });
  });

  it('reads every input', () => {
    const inputs = parseInputs(
      from({
        'broker-url': 'https://broker.internal/skillgate',
        audience: 'https://skillgate.example.com',
        scope: 'messages:create,models:read',
        ttl: '15m',
        justification: '  weekly dependency review ',
        'export-env': 'False',
        summary: 'FALSE',
        'pr-comment': 'true',
        'github-token': 'ghs_x',
      }),
    );
    expect(inputs).toEqual({
      brokerUrl: 'https://broker.internal/skillgate',
      audience: 'https://skillgate.example.com',
      scope: 'messages:create models:read',
      ttlSeconds: 900,
      justification: 'weekly dependency review',
      exportEnv: false,
      summary: false,
      prComment: true,
      githubToken: 'ghs_x',
    });
  });

  it('collects every problem into one error that names the inputs', () => {
    let error: unknown;
    try {
      parseInputs(from({ scope: 'messages', ttl: '2d', summary: 'yes', justification: 'a\nb' }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^input broker-url is required/);
    expect(lines.join('\n')).toMatch(/input scope has "messages"/);
    expect(lines.join('\n')).toMatch(/input ttl is "2d"/);
    expect(lines.join('\n')).toMatch(/input justification must be a single line/);
    expect(lines.join('\n')).toMatch(/input summary is "yes": use true or false/);
  });

  it('parses the post step inputs on their own', () => {
    expect(parsePostInputs(from({ 'pr-comment': 'True', 'github-token': ' ghs_y ' }))).toEqual({ summary: true, prComment: true, githubToken: 'ghs_y' });
    expect(() => parsePostInputs(from({ summary: '1' }))).toThrow('input summary is "1"');
  });
});

describe('parseBrokerUrl', () => {
  it.each([
    ['https://skillgate.example.com', 'https://skillgate.example.com'],
    ['https://skillgate.example.com///', 'https://skillgate.example.com'],
    ['https://skillgate.example.com:8443/base/', 'https://skillgate.example.com:8443/base'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://localhost:8080/', 'http://localhost:8080'],
  ])('accepts %s', (raw, url) => expect(parseBrokerUrl(raw)).toBe(url));

  it.each([
    ['', /is required/],
    ['skillgate.example.com', /is not a URL/],
    ['http://skillgate.example.com', /must use https/],
    ['ftp://skillgate.example.com', /must use https/],
    ['https://user:pw@skillgate.example.com', /must not carry credentials/],
    ['https://skillgate.example.com/?x=1', /must not carry credentials, a query/],
  ])('refuses %j', (raw, message) => expect(() => parseBrokerUrl(raw)).toThrow(message));
});

describe('parseScope and parseTtl', () => {
  it.each([
    ['', undefined],
    ['messages:create', 'messages:create'],
    [' messages:create \n skills:read, messages:create', 'messages:create skills:read'],
  ])('scope %j → %j', (raw, scope) => expect(parseScope(raw)).toBe(scope));

  it.each(['Messages:create', 'messages', 'messages:create;rm', ':read'])('refuses scope %j', (raw) => expect(() => parseScope(raw)).toThrow(InputError));

  it.each([
    ['', undefined],
    ['900', 900],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['24h', 86_400],
  ])('ttl %j → %j seconds', (raw, seconds) => expect(parseTtl(raw)).toBe(seconds));

  it.each(['0', '-5', '1.5m', '25h', '1d', 'soon'])('refuses ttl %j', (raw) => expect(() => parseTtl(raw)).toThrow(/input ttl/));
});

describe('anthropicEnv', () => {
  it('gives the SDKs and Claude Code the base URL and the token under both credential names', () => {
    expect(anthropicEnv({ baseUrl: 'https://b', token: 'sgt_x' })).toEqual({ ANTHROPIC_BASE_URL: 'https://b', ANTHROPIC_API_KEY: 'sgt_x', ANTHROPIC_AUTH_TOKEN: 'sgt_x' });
  });

  it('adds the justification header, replacing an earlier one and keeping the job\'s own headers', () => {
    const env = anthropicEnv({ baseUrl: 'https://b', token: 'sgt_x', justification: 'new', existingCustomHeaders: 'X-Team: docs\nx-skillgate-justification: old\n' });
    expect(env['ANTHROPIC_CUSTOM_HEADERS']).toBe('X-Team: docs\nX-Skillgate-Justification: new');
  });
});
