// Config loading: every bad config fails with a ConfigError whose problems name the field and the
// fix (and never echo a secret); good configs compile to the issuers and policies operators expect.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchema } from '../broker/config/json-schema.ts';
import { ConfigError, loadConfig, parseConfig, type Config } from '../broker/config/load-config.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/skillgate.yaml', import.meta.url));
const PUBLISHED_SCHEMA = fileURLToPath(new URL('../schema/skillgate.config.schema.json', import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-config-'));
  writeFileSync(join(dir, 'operator-token.txt'), 'op-token-from-file\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Parts {
  /** Extra top-level YAML (operators, issuers, …). */
  top?: string;
  issuer?: string;
  /** The policy's match block, one `claim: matcher` per line. */
  match?: string;
  /** The policy's grant block. */
  grant?: string;
}

const GOOD_MATCH = 'repository_owner_id: "65"\nrepository_id: "74"';
const GOOD_GRANT = 'scopes: [messages:create]\nttl: 30m';
const indent = (text: string, spaces: number) => text.split('\n').map((line) => `${' '.repeat(spaces)}${line}`).join('\n');

/** `configYaml` writes a one-policy config the way an operator would, with one part swapped out. */
function configYaml({ top = '', issuer = 'github', match = GOOD_MATCH, grant = GOOD_GRANT }: Parts = {}): string {
  return `audience: https://skillgate.test
${top}
policies:
  - name: docs-bot
    issuer: ${issuer}
    match:
${indent(match, 6)}
    grant:
${indent(grant, 6)}
`;
}

const load = (text: string, env: NodeJS.ProcessEnv = {}): Config => parseConfig(text, { source: 'skillgate.yaml', baseDir: dir, env });

/** The ConfigError a config must fail with; fails the test when it loads. */
function configError(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the config to fail to load, but it loaded');
}

/**
 * A problem line starts with the field path. Compile-time problems add the policy's name after
 * its index (`policies[0] (docs-bot).match`), schema problems do not (`policies[0].grant.ttl`).
 */
const at = (field: string) => new RegExp(`^${field.replace(/[.[\]()$]/g, '\\$&').replace(/(policies\\\[\d+\\\])/, '$1(?: \\([^)]*\\))?')}: `);

describe('bad configs fail with the field and the fix', () => {
  it.each<{ name: string; yaml: string; field: string; fix: string | RegExp }>([
    { name: 'unknown top-level key', yaml: configYaml({ top: 'polices: []' }), field: '(top level)', fix: /unknown key "polices"; check the spelling \(allowed here: .*policies/ },
    {
      name: 'unknown key inside a grant',
      yaml: configYaml({ grant: `${GOOD_GRANT}\nmax_token: 4096` }),
      field: 'policies[0].grant',
      fix: /unknown key "max_token".*allowed here: .*max_tokens/,
    },
    { name: 'missing audience', yaml: configYaml().replace(/^audience: .*\n/, ''), field: '(top level)', fix: 'missing required key "audience"' },
    {
      name: 'unquoted numeric id',
      yaml: configYaml({ match: 'repository_owner_id: "65"\nrepository_id: 74' }),
      field: 'policies[0].match.repository_id',
      fix: 'quote it ("74"): ids and claims compare as strings',
    },
    {
      name: 'unquoted numeric ids in a list',
      yaml: configYaml({ match: 'repository_id: [74, 75]' }),
      field: 'policies[0].match.repository_id',
      fix: 'quote it',
    },
    { name: 'duration with a word for the unit', yaml: configYaml({ grant: 'scopes: [messages:create]\nttl: 30 minutes' }), field: 'policies[0].grant.ttl', fix: '90s, 30m, 1h, 1d' },
    { name: 'duration without a unit', yaml: configYaml({ grant: 'scopes: [messages:create]\nttl: 1800' }), field: 'policies[0].grant.ttl', fix: 'must be a string' },
    { name: 'unknown scope', yaml: configYaml({ grant: 'scopes: [messages:write]\nttl: 30m' }), field: 'policies[0].grant.scopes[0]', fix: /must be one of: messages:create, models:read/ },
    {
      name: 'policy with no identity binding (issuer + audience + ref) (B-59)',
      yaml: configYaml({ match: 'ref: refs/heads/main' }),
      field: 'policies[0].match',
      fix: 'binds no identity; add repository_id or repository_owner_id or enterprise_id with exact values',
    },
    { name: 'policy with an empty match (B-59)', yaml: configYaml({ match: '{}' }), field: 'policies[0].match', fix: 'binds no identity' },
    {
      name: 'identity claim as a pattern',
      yaml: configYaml({ match: 'repository_owner_id: "65"\nrepository_id: {pattern: "7[0-9]"}' }),
      field: 'policies[0].match.repository_id',
      fix: 'identity claims must be exact values, not a pattern; list the ids',
    },
    {
      name: 'wildcard subject without a numeric owner id (B-60)',
      yaml: configYaml({ match: 'sub: {pattern: "repo:octo-org/.*"}' }),
      field: 'policies[0].match',
      fix: 'binds no identity; add repository_id or repository_owner_id',
    },
    {
      name: 'wildcard repository bound by owner name, not id (B-60)',
      yaml: configYaml({ match: 'repository_owner: octo-org\nrepository: {pattern: "octo-org/.*"}' }),
      field: 'policies[0].match',
      fix: 'binds no identity',
    },
    {
      name: 'IdP policy without sub',
      yaml: configYaml({ top: 'issuers: [{name: okta, kind: oidc, issuer: "https://acme.okta.com"}]', issuer: 'okta', match: 'email: dev@acme.example' }),
      field: 'policies[0].match',
      fix: 'add sub with exact values',
    },
    { name: 'unknown issuer name', yaml: configYaml({ issuer: 'acme-ghes' }), field: 'policies[0].issuer', fix: 'no issuer named "acme-ghes"; known: github' },
    {
      name: 'invalid regular expression',
      yaml: configYaml({ match: `${GOOD_MATCH}\nref: {pattern: "refs/(heads"}` }),
      field: 'policies[0].match.ref.pattern',
      fix: /invalid regular expression .*fix the pattern/,
    },
    {
      name: 'event_name pattern that admits pull_request_target (B-64)',
      yaml: configYaml({ match: `${GOOD_MATCH}\nevent_name: {pattern: "pull_request.*"}` }),
      field: 'policies[0].match.event_name',
      fix: 'the pattern admits pull_request_target; list such events by exact name',
    },
    {
      name: 'catch-all event_name pattern',
      yaml: configYaml({ match: `${GOOD_MATCH}\nevent_name: {pattern: ".*"}` }),
      field: 'policies[0].match.event_name',
      fix: 'the pattern admits workflow_run',
    },
    {
      name: 'duplicate policy names',
      yaml: `${configYaml()}  - name: docs-bot\n    issuer: github\n    match: {repository_id: "75"}\n    grant: {scopes: [messages:create], ttl: 10m}\n`,
      field: 'policies[1].name',
      fix: 'policy name "docs-bot" is used twice; names must be unique',
    },
    {
      name: 'duplicate issuer names',
      yaml: configYaml({ top: 'issuers:\n  - {name: acme, ghes_hostname: ghe.acme.example}\n  - {name: acme, ghes_hostname: ghe2.acme.example}' }),
      field: 'issuers[1].name',
      fix: 'issuer name "acme" is used twice; names must be unique',
    },
    {
      name: 'the same issuer URL twice',
      yaml: configYaml({ top: 'issuers:\n  - {name: acme, ghes_hostname: ghe.acme.example}\n  - {name: acme-again, issuer: "https://ghe.acme.example/_services/token"}' }),
      field: 'issuers',
      fix: /"acme-again" and "acme" have the same issuer https:\/\/ghe\.acme\.example\/_services\/token; keep one/,
    },
    {
      name: 'the built-in GitHub issuer configured again under another name',
      yaml: configYaml({ top: 'issuers: [{name: gh, issuer: "https://token.actions.githubusercontent.com"}]' }),
      field: 'issuers',
      fix: 'have the same issuer https://token.actions.githubusercontent.com; keep one',
    },
    {
      name: 'http issuer on a remote host',
      yaml: configYaml({ top: 'issuers: [{name: idp, kind: oidc, issuer: "http://idp.example.com"}]' }),
      field: 'issuers[0].issuer',
      fix: 'use https (plain http is accepted only for 127.0.0.1 / localhost',
    },
    {
      name: 'http issuer on a host that only starts like loopback',
      yaml: configYaml({ top: 'issuers: [{name: idp, kind: oidc, issuer: "http://127.0.0.1.nip.io"}]' }),
      field: 'issuers[0].issuer',
      fix: 'use https',
    },
    {
      name: 'issuer URL with credentials',
      yaml: configYaml({ top: 'issuers: [{name: idp, kind: oidc, issuer: "https://user:pw@idp.example.com"}]' }),
      field: 'issuers[0].issuer',
      fix: 'must not carry credentials, a query or a fragment',
    },
    {
      name: 'issuer with both issuer and ghes_hostname',
      yaml: configYaml({ top: 'issuers: [{name: acme, issuer: "https://ghe.acme.example/_services/token", ghes_hostname: ghe.acme.example}]' }),
      field: 'issuers[0]',
      fix: 'set exactly one of issuer, github_enterprise_slug, ghes_hostname or ghe_com_subdomain (found 2)',
    },
    { name: 'issuer with no URL at all', yaml: configYaml({ top: 'issuers: [{name: acme}]' }), field: 'issuers[0]', fix: '(found 0)' },
    {
      name: 'env: reference to an unset variable',
      yaml: configYaml({ top: 'operators: [{name: ops, token: "env:SKILLGATE_TEST_UNSET"}]' }),
      field: 'operators[0].token',
      fix: 'environment variable SKILLGATE_TEST_UNSET is not set or empty; export it',
    },
    {
      name: 'file: reference to a missing file',
      yaml: configYaml({ top: 'operators: [{name: ops, token: "file:missing-token.txt"}]' }),
      field: 'operators[0].token',
      fix: /cannot read secret file \/.*\/missing-token\.txt \(ENOENT\); check the path/,
    },
    {
      name: 'masking value that is not a reference',
      yaml: configYaml({ grant: `${GOOD_GRANT}\nmasking: {values: [hunter2]}` }),
      field: 'policies[0].grant.masking.values[0]',
      fix: 'A reference, never the value: env:NAME or file:PATH',
    },
    {
      name: 'duplicate YAML keys',
      yaml: configYaml({ match: 'repository_id: "74"\nrepository_id: "75"' }),
      field: 'YAML line 8',
      fix: 'Map keys must be unique; remove or merge the repeated key',
    },
  ])('$name', ({ yaml, field, fix }) => {
    const err = configError(yaml);
    const line = err.problems.find((p) => at(field).test(p) && (typeof fix === 'string' ? p.includes(fix) : fix.test(p)));
    expect(line, `no problem names ${field} with ${String(fix)}: ${JSON.stringify(err.problems)}`).toBeDefined();
    expect(err.message).toContain(line);
  });

  it('does not echo a literal secret pasted where a reference belongs', () => {
    const pasted = 'sk-ant-api03-PASTEDsecretVALUE0123456789';
    const err = configError(configYaml({ top: `operators: [{name: ops, token: "${pasted}"}]`, grant: `${GOOD_GRANT}\nmasking: {values: ["${pasted}"]}` }));
    expect(err.problems).toEqual([
      expect.stringMatching(/^operators\[0\]\.token: .*env:NAME or file:PATH/),
      expect.stringMatching(/^policies\[0\]\.grant\.masking\.values\[0\]: .*env:NAME or file:PATH/),
    ]);
    expect(err.message).not.toContain(pasted);
    expect(err.message).not.toContain('PASTED');
  });

  it('names a missing variable but never a resolved secret', () => {
    const value = 'op-secret-value-do-not-print';
    const err = configError(
      configYaml({ top: 'operators: [{name: ops, token: "env:SKILLGATE_TEST_OPS"}]', grant: `${GOOD_GRANT}\nmasking: {values: ["env:SKILLGATE_TEST_MASK"]}` }),
      { SKILLGATE_TEST_OPS: value },
    );
    expect(err.problems).toEqual([expect.stringMatching(/^policies\[0\]\.grant\.masking\.values\[0\]: environment variable SKILLGATE_TEST_MASK is not set/)]);
    expect(err.message).not.toContain(value);
  });

  it('treats an empty variable as unset', () => {
    const err = configError(configYaml({ top: 'operators: [{name: ops, token: "env:SKILLGATE_TEST_OPS"}]' }), { SKILLGATE_TEST_OPS: '' });
    expect(err.problems).toEqual([expect.stringContaining('operators[0].token: environment variable SKILLGATE_TEST_OPS is not set or empty')]);
  });

  it('reports every schema problem in one ConfigError', () => {
    const err = configError(configYaml({ top: 'polices: []', match: 'repository_id: 74', grant: 'scopes: [messages:write]\nttl: 30 minutes' }).replace(/^audience: .*\n/, ''));
    expect(err.problems).toEqual([
      expect.stringMatching(/^\(top level\): missing required key "audience"/),
      expect.stringMatching(/^\(top level\): unknown key "polices"/),
      expect.stringMatching(/^policies\[0\]\.match\.repository_id: .*quote it/),
      expect.stringMatching(/^policies\[0\]\.grant\.scopes\[0\]: must be one of/),
      expect.stringMatching(/^policies\[0\]\.grant\.ttl: has the wrong form/),
    ]);
    expect(err.message).toMatch(/^skillgate\.yaml: 5 problems:\n {2}- /);
  });

  it('reports every compile problem in one ConfigError', () => {
    const err = configError(
      configYaml({
        top: 'operators: [{name: ops, token: "env:SKILLGATE_TEST_UNSET"}]\nissuers: [{name: idp, kind: oidc, issuer: "http://idp.example.com"}]',
        match: 'ref: refs/heads/main\nevent_name: {pattern: "pull_request_.*"}',
      }),
    );
    expect(err.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(at('operators[0].token')),
        expect.stringMatching(at('issuers[0].issuer')),
        expect.stringMatching(/^policies\[0\] \(docs-bot\)\.match: binds no identity/),
        expect.stringMatching(/^policies\[0\] \(docs-bot\)\.match\.event_name: the pattern admits pull_request_target/),
      ]),
    );
  });

  it('reports every YAML problem with its line', () => {
    const err = configError('audience: a\naudience: b\npolicies: [\n');
    expect(err.problems[0]).toBe('YAML line 2: Map keys must be unique; remove or merge the repeated key');
    expect(err.problems.length).toBeGreaterThan(1);
  });

  it('loads an actor matcher with a warning, not an error (B-82)', () => {
    const config = load(configYaml({ match: `${GOOD_MATCH}\nactor: octocat` }));
    expect(config.policies.map((p) => p.name)).toEqual(['docs-bot']);
    expect(config.warnings).toEqual([expect.stringMatching(/^policies\[0\] \(docs-bot\)\.match\.actor: actor is who triggered the run, not an authorization boundary/)]);
  });

  it('a config without an actor matcher has no warnings', () => {
    expect(load(configYaml()).warnings).toEqual([]);
  });
});

describe('good configs', () => {
  it('loads the example config', () => {
    const config = loadConfig(EXAMPLE, {});
    expect(config.audience).toBe('https://skillgate.example.com');
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.storePath).toBe(join(fileURLToPath(new URL('../examples/', import.meta.url)), 'skillgate.db'));
    expect(config.policies.map((p) => [p.name, p.issuer.name, p.grant.ttlSec])).toEqual([
      ['docs-bot', 'github', 1800],
      ['docs-bot-pr-review', 'github', 600],
    ]);
    const docsBot = config.policies[0]!;
    expect(docsBot.identity.map((m) => [m.claim, m.exact])).toEqual([
      ['repository_owner_id', ['65']],
      ['repository_id', ['74']],
    ]);
    expect(docsBot.grant).toMatchObject({ scopes: ['messages:create', 'models:read', 'skills:read'], maxTokens: 8192, tools: { code_execution: 'allow', bash: 'deny' } });
    expect(config.warnings).toEqual([]);
  });

  it('builds in GitHub as "github"', () => {
    const config = load(configYaml());
    expect(config.issuers).toEqual([
      expect.objectContaining({ name: 'github', kind: 'github', issuer: 'https://token.actions.githubusercontent.com', audience: 'https://skillgate.test', algorithms: ['RS256'] }),
    ]);
  });

  it.each([
    ['github_enterprise_slug: octo-corp', 'https://token.actions.githubusercontent.com/octo-corp'],
    ['ghes_hostname: ghe.acme.internal', 'https://ghe.acme.internal/_services/token'],
    ['ghes_hostname: "ghe.acme.internal:8443"', 'https://ghe.acme.internal:8443/_services/token'],
    ['ghe_com_subdomain: octo', 'https://token.actions.octo.ghe.com'],
    ['issuer: "https://idp.example.com/"', 'https://idp.example.com'],
    ['issuer: "http://127.0.0.1:8400"', 'http://127.0.0.1:8400'],
    ['issuer: "http://localhost:8400"', 'http://localhost:8400'],
  ])('%s → %s', (entry, url) => {
    const config = load(configYaml({ top: `issuers:\n  - name: enterprise\n    ${entry}`, issuer: 'enterprise' }));
    expect(config.issuers.map((s) => [s.name, s.issuer])).toEqual([
      ['enterprise', url],
      ['github', 'https://token.actions.githubusercontent.com'],
    ]);
    expect(config.policies[0]?.issuer.issuer).toBe(url);
  });

  it('lets an entry named github replace the built-in issuer', () => {
    const config = load(configYaml({ top: 'issuers: [{name: github, issuer: "http://127.0.0.1:8400", audience: custom-aud}]' }));
    expect(config.issuers.map((s) => [s.name, s.issuer, s.audience])).toEqual([['github', 'http://127.0.0.1:8400', 'custom-aud']]);
  });

  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['1d', 86_400],
  ])('parses the duration %s as %i seconds', (text, seconds) => {
    const config = load(
      configYaml({
        top: `issuers: [{name: acme, ghes_hostname: ghe.acme.example, max_token_age: ${text}, max_lifetime: ${text}, clock_tolerance: ${text}}]\noperators: [{name: ops, token: "env:SKILLGATE_TEST_OPS"}]\napprovers: [{name: octocat, operator: ops}]`,
        grant: `scopes: [messages:create]\nttl: ${text}\nbudget: {requests: 10, window: ${text}}\napproval: {for: [skills:write], approvers: [octocat], wait: ${text}}`,
      }),
      { SKILLGATE_TEST_OPS: 'op-token' },
    );
    expect(config.policies[0]?.grant).toMatchObject({ ttlSec: seconds, budget: { windowSec: seconds }, approval: { waitSec: seconds } });
    expect(config.issuers[0]).toMatchObject({ maxTokenAgeSec: seconds, maxLifetimeSec: seconds, clockToleranceSec: seconds });
  });

  it('resolves env: and file: operator tokens (a trailing newline is not part of the secret)', () => {
    const config = load(
      configYaml({ top: 'operators:\n  - {name: from-env, token: "env:SKILLGATE_TEST_OPS"}\n  - {name: from-file, token: "file:operator-token.txt"}' }),
      { SKILLGATE_TEST_OPS: 'op-token-from-env' },
    );
    expect(config.operators).toEqual([
      { name: 'from-env', token: 'op-token-from-env' },
      { name: 'from-file', token: 'op-token-from-file' },
    ]);
  });

  it('resolves masking values to the secrets they name', () => {
    const config = load(configYaml({ grant: `${GOOD_GRANT}\nmasking: {values: ["file:${join(dir, 'operator-token.txt')}"]}` }));
    expect(config.policies[0]?.grant.masking?.values).toEqual(['op-token-from-file']);
  });

  it('adds the default event allowlist to a GitHub policy that names no event_name', () => {
    const [policy] = load(configYaml()).policies;
    const events = policy?.conditions.find((m) => m.claim === 'event_name');
    expect(events?.exact).toEqual(['push', 'workflow_dispatch', 'schedule', 'release']);
    expect(events?.test('pull_request_target')).toBe(false);
  });
});

describe('published JSON Schema', () => {
  it('matches the schema the broker enforces (run `npm run schema` after changing broker/config/schema.ts)', () => {
    expect(readFileSync(PUBLISHED_SCHEMA, 'utf8')).toBe(configJsonSchema());
  });

  it('validates the example config the way an editor would', () => {
    const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(PUBLISHED_SCHEMA, 'utf8')) as object);
    const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...example, polices: [] })).toBe(false);
  });
});
