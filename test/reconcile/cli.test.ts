// `skillgate reconcile --once [--dry-run]` and `skillgate report --format md|json|html`, as child
// processes against an SQLite file (each run costs about a second, so the cases are few).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_NAME } from '../../broker/reconcile/lease.ts';
import { openSqliteStore } from '../../broker/store/sqlite-store.ts';
import { DAY, seedToken } from './fixtures.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let configPath: string;
let dbPath: string;
let expiredId: string;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env['SKILLGATE_CONFIG'];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'broker/cli.ts', ...args], { cwd: ROOT, env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-reconcile-cli-'));
  dbPath = join(dir, 'skillgate.db');
  configPath = join(dir, 'skillgate.yaml');
  writeFileSync(
    configPath,
    stringify({
      audience: 'https://skillgate.test',
      store: 'sqlite:./skillgate.db',
      policies: [{ name: 'ci', issuer: 'github', match: { repository_owner_id: '65' }, grant: { scopes: ['messages:create'], ttl: '1h' } }],
      reconciler: { stale_after: '7d', reports: { directory: './reports' } },
    }),
  );
  const store = openSqliteStore(dbPath);
  expiredId = (await seedToken(store, Date.now(), { issuedAt: Date.now() - 2 * DAY, expiresAt: Date.now() - DAY })).id;
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('skillgate reconcile / report', () => {
  it('--dry-run prints what would happen and changes nothing', async () => {
    const { code, stdout } = await cli(['reconcile', '--once', '--dry-run', '-c', configPath, '--format', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { summary: { dry_run: boolean }; revocations: { token_id: string; outcome: string }[] };
    expect(report.summary.dry_run).toBe(true);
    expect(report.revocations).toContainEqual(expect.objectContaining({ token_id: expiredId, outcome: 'would_revoke' }));
    const store = openSqliteStore(dbPath);
    expect((await store.getToken(expiredId))?.revokedAt).toBeUndefined();
    expect(await store.listReports(1)).toEqual([]);
    await store.close();
  });

  it('--once revokes and reports; report prints the latest as Markdown, JSON or HTML', async () => {
    const run = await cli(['reconcile', '--once', '-c', configPath]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('# skillgate revocation report rpt_');
    expect(run.stdout).toContain(expiredId);
    const json = JSON.parse((await cli(['report', '-c', configPath, '--format', 'json'])).stdout) as { id: string };
    expect(run.stdout).toContain(json.id);
    expect((await cli(['report', '-c', configPath, '--format', 'html'])).stdout).toMatch(/^<!doctype html>/);
    expect((await cli(['report', '-c', configPath, '--id', json.id])).stdout).toContain('## Expired tokens closed out');
  });

  it('stands aside (exit 3) while another broker holds the reconciler lease, and needs --once', async () => {
    const store = openSqliteStore(dbPath);
    await store.acquireLease(LEASE_NAME, 'other-broker', Date.now(), 60_000);
    await store.close();
    const busy = await cli(['reconcile', '--once', '-c', configPath]);
    expect(busy.code).toBe(3);
    expect(busy.stderr).toContain('another broker holds the reconciler lease');
    expect((await cli(['reconcile', '-c', configPath])).stderr).toContain('--once');
  });
});
