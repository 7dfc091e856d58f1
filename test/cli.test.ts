// The real `skillgate` CLI as a child process (each run costs about a second, so the cases are
// few): policy check / explain on configs written here, tokens list / revoke against the SQLite
// file of a broker running in this process, and the audit commands over its trail.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, testConfigYaml, type TestBroker } from './helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `runCli` runs `node --import tsx broker/cli.ts …` from the repository root. */
function runCli(args: string[]): Promise<CliResult> {
  const env = { ...process.env };
  delete env['SKILLGATE_CONFIG'];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'broker/cli.ts', ...args], { cwd: ROOT, env, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `writeFile` puts a file in the test's temp folder and returns its path. */
function writeFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const POLICIES_YAML = `audience: https://skillgate.example.com
store: "sqlite::memory:"
policies:
  - name: docs-bot
    issuer: github
    match:
      repository_owner_id: "65"
      repository_id: "74"
      ref: refs/heads/main
    grant:
      scopes: [messages:create, models:read]
      models: ["claude-sonnet-4-*"]
      ttl: 30m
  - name: release-bot
    issuer: github
    match:
      repository_id: "75"
      event_name: release
      actor: octocat
    grant:
      scopes: [skills:write]
      ttl: 10m
`;

const CLAIMS = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
  repository: 'octo-org/octo-repo',
  repository_id: '74',
  repository_owner: 'octo-org',
  repository_owner_id: '65',
  ref: 'refs/heads/main',
  event_name: 'push',
};

describe('skillgate policy', () => {
  it('check prints the compiled policies and their warnings', async () => {
    const { code, stdout, stderr } = await runCli(['policy', 'check', writeFile('good.yaml', POLICIES_YAML)]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('good.yaml: ok — 2 policies, audience https://skillgate.example.com');
    expect(stdout).toContain('policy docs-bot (issuer github: https://token.actions.githubusercontent.com)');
    expect(stdout).toMatch(/identity +repository_id = "74"/);
    expect(stdout).toMatch(/match +ref = "refs\/heads\/main"/);
    expect(stdout).toMatch(/match +event_name one of \["push","workflow_dispatch","schedule","release"\] \(default\)/);
    expect(stdout).toMatch(/grant +scopes messages:create models:read; ttl 30m/);
    expect(stdout).toContain('policy release-bot');
    expect(stdout).toMatch(/^warning: policies\[1\] \(release-bot\)\.match\.actor: actor is who triggered the run/m);
  });

  it('check exits 2 and prints every problem of a bad config', async () => {
    const bad = POLICIES_YAML.replace('repository_id: "74"', 'repository_id: 74').replace('ttl: 30m', 'ttl: 30 minutes').replace('store:', 'stor:');
    const { code, stdout, stderr } = await runCli(['policy', 'check', writeFile('bad.yaml', bad)]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('bad.yaml: 3 problems:');
    expect(stderr).toMatch(/- \(top level\): unknown key "stor"/);
    expect(stderr).toMatch(/- policies\[0\]\.match\.repository_id: .*quote it/);
    expect(stderr).toMatch(/- policies\[0\]\.grant\.ttl: has the wrong form/);
  });

  it('explain names the policy that matches', async () => {
    const config = writeFile('explain.yaml', POLICIES_YAML);
    const { code, stdout } = await runCli(['policy', 'explain', config, '--claims', writeFile('claims.json', JSON.stringify(CLAIMS))]);
    expect(stdout).toContain('✓ docs-bot: matches');
    expect(stdout).toMatch(/✗ release-bot: repository_id "74" does not satisfy = "75"/);
    expect(stdout).toContain('result: policy docs-bot grants messages:create models:read for 30m');
    expect(code).toBe(0);
  });

  it('explain exits 1 and names the claim when nothing matches', async () => {
    const config = writeFile('explain.yaml', POLICIES_YAML);
    const claims = writeFile('prt-claims.json', JSON.stringify({ ...CLAIMS, event_name: 'pull_request_target' }));
    const { code, stdout } = await runCli(['policy', 'explain', config, '--claims', claims]);
    expect(stdout).toMatch(/✗ docs-bot: event_name "pull_request_target" does not satisfy one of/);
    expect(stdout).toMatch(/result: denied \(event_not_allowed\): .*event_name "pull_request_target"/);
    expect(code).toBe(1);
  });
});

describe('skillgate tokens', () => {
  let issuer: OidcIssuer;
  let broker: TestBroker;
  let configPath: string;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    const brokerDir = mkdtempSync(join(tmpdir(), 'skillgate-cli-broker-'));
    broker = await startBroker({ issuerUrl: issuer.url, dir: brokerDir });
    // The CLI reads the same config, so it opens the SQLite file the broker writes.
    configPath = join(brokerDir, 'skillgate.yaml');
    writeFileSync(configPath, testConfigYaml({ issuerUrl: issuer.url }, brokerDir));
  });
  afterAll(async () => {
    await broker.close();
    await issuer.close();
    rmSync(broker.dir, { recursive: true, force: true });
  });

  const whoami = (token: string) => fetch(`${broker.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });

  it('lists a minted token, revokes it, and the broker refuses it at once', async () => {
    const { status, body } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
    expect(status).toBe(200);
    const token = body['access_token'] as string;
    const id = body['token_id'] as string;

    const list = await runCli(['tokens', 'list', '--config', configPath, '--active', '--json']);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(listed).toContainEqual(expect.objectContaining({ id, policy: 'ci', state: 'active', identity: expect.objectContaining({ repository_id: '74', run_id: '1234567890' }) }));
    expect(list.stdout).not.toContain(token);

    const revoke = await runCli(['tokens', 'revoke', id, '--config', configPath, '--reason', 'offboarded']);
    expect(revoke.stderr).toBe('');
    expect(revoke.stdout.trim()).toBe(`revoked ${id}`);
    expect(revoke.code).toBe(0);

    const res = await whoami(token);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_token', reason: 'token_revoked', message: expect.stringContaining('offboarded') });
    expect(await broker.store.getToken(id)).toMatchObject({ revokedReason: 'offboarded', revokedBy: 'cli' });
  });

  it('audit query, export, replay and verify read the same trail the broker writes', async () => {
    const { body } = await broker.exchange(await issuer.sign(issuer.githubClaims({ run_id: '777' })));
    const id = body['token_id'] as string;

    const query = await runCli(['audit', 'query', '--config', configPath, '--type', 'token.exchange', '--run-id', '777']);
    expect(query.code).toBe(0);
    const lines = query.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`token.exchange\tgranted`);
    expect(lines[0]).toContain(id);

    const exported = await runCli(['audit', 'export', '--config', configPath, '--session', id]);
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as { session: string; type: string })).toEqual([expect.objectContaining({ session: id, type: 'token.exchange' })]);
    expect(exported.stdout).not.toContain(String(body['access_token']));

    const replay = await runCli(['audit', 'replay', id, '--config', configPath]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`# Session ${id}`);
    expect(replay.stdout).toContain('policy **ci**');

    const verify = await runCli(['audit', 'verify', '--config', configPath]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ok: \d+ records, head [0-9a-f]{64}/);

    const head = (await broker.store.auditHead())!;
    const reached = await runCli(['audit', 'verify', '--config', configPath, '--checkpoint', `${head.seq}:${head.hash}`]);
    expect(reached.code).toBe(0);
    const beyond = await runCli(['audit', 'verify', '--config', configPath, '--checkpoint', `${head.seq + 5}:${head.hash}`]);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain(`broken at record ${head.seq + 1}: the trail ends at record ${head.seq}, but a checkpoint saw record ${head.seq + 5}`);
    const garbled = await runCli(['audit', 'verify', '--config', configPath, '--checkpoint', 'yesterday']);
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toContain('--checkpoint takes <seq>:<hash>');
  });

  it('revoking an unknown id exits 1 and says so', async () => {
    const { code, stdout, stderr } = await runCli(['tokens', 'revoke', 'tok_0000000000000000', '--config', configPath]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('no active token with id tok_0000000000000000 (see skillgate tokens list)');
  });
});
