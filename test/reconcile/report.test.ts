// The revocation report: its published JSON Schema, the Markdown and HTML renderings, where it is
// delivered (directory, webhook, GitHub issue) and how operators read it over HTTP.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../broker/app.ts';
import { createIssuerKeys } from '../../broker/exchange/issuer-keys.ts';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import { renderHtml } from '../../broker/reconcile/report/render-html.ts';
import { renderMarkdown } from '../../broker/reconcile/report/render-markdown.ts';
import { reportJsonSchema, type RevocationReport } from '../../broker/reconcile/report/report-schema.ts';
import { FAKE_GITHUB_TOKEN, startFakeGithub, type FakeGithub } from '../fake-github/server.ts';
import { STUB_ADMIN_KEY, startStubUpstream, type StubUpstream } from '../stub-upstream/server.ts';
import { DAY, ORG, REPO, personIdentity, recordUse, seedToken, tempStore, testConfig, testDeps, workflowIdentity, type TempStore } from './fixtures.ts';

const PUBLISHED = new URL('../../schema/revocation-report.schema.json', import.meta.url);
const NOW = Date.now();
const OPERATOR = 'report-reader-credential';
const ENV = { ...process.env, TEST_GITHUB_TOKEN: FAKE_GITHUB_TOKEN, TEST_ADMIN_KEY: STUB_ADMIN_KEY, TEST_OPERATOR: OPERATOR };

let github: FakeGithub;
let stub: StubUpstream;
let db: TempStore;
let dir: string;
let hooks: { body: string; headers: IncomingMessage['headers'] }[];
let hookUrl: string;
let closeHook: () => void;
let first: RevocationReport;
let second: RevocationReport;

/** A config with every check and every delivery. */
const config = (issue: Record<string, unknown> = {}) =>
  testConfig(
    {
      stale_after: '7d',
      github: { token: 'env:TEST_GITHUB_TOKEN', orgs: [ORG.login], api_url: github.url },
      idp: { file: 'people.txt' },
      anthropic_keys: { admin_key: 'env:TEST_ADMIN_KEY', base_url: stub.url },
      safety: { max_share: 1 },
      reports: { directory: 'reports', webhook_url: hookUrl, github_issue: { repository: `${ORG.login}/${REPO.name}`, labels: ['skillgate'], ...issue } },
    },
    { env: ENV, dir, extra: { operators: [{ name: 'security', token: 'env:TEST_OPERATOR' }] } },
  );

async function run(now: number, issue: Record<string, unknown> = {}): Promise<RevocationReport> {
  const deps = testDeps(config(issue), db.store, now, ENV);
  const outcome = await reconcile(deps, { trigger: 'cli' });
  deps.close();
  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  return outcome.report;
}

beforeAll(async () => {
  github = await startFakeGithub();
  github.addOrg(ORG.login, ORG.id);
  github.addMember(ORG.login, { login: 'hubot', id: 13 });
  github.addRepo({ id: REPO.id, name: REPO.name, owner: ORG });
  stub = await startStubUpstream();
  db = tempStore();
  dir = mkdtempSync(join(tmpdir(), 'skillgate-report-'));
  writeFileSync(join(dir, 'people.txt'), 'alice@example.com\n');
  hooks = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => (hooks.push({ body, headers: req.headers }), res.end('ok')));
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  closeHook = () => hook.close();

  // Something for every section: offboarded, expired, stale, a departed person, hostile text, usage.
  await seedToken(db.store, NOW, { identity: workflowIdentity() });
  await seedToken(db.store, NOW, { identity: workflowIdentity({ actor: 'hubot', actor_id: '13' }), issuedAt: NOW - 2 * DAY, expiresAt: NOW - DAY });
  const idle = await seedToken(db.store, NOW, { identity: workflowIdentity({ actor: 'hubot', actor_id: '13' }), issuedAt: NOW - 10 * DAY, expiresAt: NOW + 30 * DAY });
  await recordUse(db.store, idle, NOW - 9 * DAY, { body: { model: 'claude-sonnet-5', max_tokens: 8, messages: [], tools: [{ type: 'bash_20250124', name: 'bash' }] } });
  await seedToken(db.store, NOW, { policy: 'people', identity: personIdentity('bob@example.com') });
  await seedToken(db.store, NOW, { policy: 'retired</td><script>alert(1)</script>|x', identity: workflowIdentity({ actor: 'hubot', actor_id: '13', repository: 'octo-org/<img src=x onerror=alert(1)>' }) });

  first = await run(NOW);
  await seedToken(db.store, NOW + DAY, { policy: 'gone', identity: workflowIdentity({ actor: 'hubot', actor_id: '13' }) });
  second = await run(NOW + DAY);
});
afterAll(async () => {
  closeHook();
  await github.close();
  await stub.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report JSON', () => {
  it('is published as schema/revocation-report.schema.json (run `npx tsx scripts/write-report-schema.ts` after changing the schema)', () => {
    expect(readFileSync(PUBLISHED, 'utf8')).toBe(reportJsonSchema());
  });

  it('validates against the published schema, for every stored report', async () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(PUBLISHED, 'utf8')) as object);
    for (const stored of await db.store.listReports(10)) {
      const report = JSON.parse((await db.store.getReport(stored.id))!.body) as unknown;
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(validate({ ...first, summary: { ...first.summary, status: 'fine' } })).toBe(false);
  });

  it('says what was checked, revoked and why, flagged, recommended, and what went wrong', () => {
    expect(first.checks.map((c) => [c.name, c.status])).toEqual([
      ['expired', 'ran'], ['stale', 'ran'], ['policy_drift', 'ran'], ['offboarded', 'ran'], ['idp', 'ran'], ['repositories', 'ran'], ['api_keys', 'ran'], ['scope_drift', 'ran'],
    ]);
    expect(first.summary.by_reason).toMatchObject({ actor_offboarded: 1, expired: 1, stale: 1, idp_account_gone: 1, policy_removed: 1, key_creator_offboarded: 2 });
    expect(first.api_keys.every((k) => k.outcome === 'flagged')).toBe(true);
    expect(first.recommendations.find((r) => r.policy === 'ci')?.recommendation).toContain('grant.scopes');
    expect(JSON.stringify(first)).not.toMatch(/tokenHash|token_hash|sgt_|sk-ant-admin/);
  });

  it('charts the runs so far, oldest first', () => {
    expect(second.history.map((h) => h.id)).toEqual([first.id, second.id]);
    expect(second.history[1]).toMatchObject({ revoked: 1 });
  });
});

describe('renderings', () => {
  it('Markdown has the summary, counts by reason and every table, with table text escaped', () => {
    const md = renderMarkdown(first);
    for (const heading of ['## Summary', '### By reason', '## Safety brake', '## Sources', '## What was checked', '## Revocations', '## Expired tokens closed out', '## Anthropic API keys', '## Recommendations (scope drift)']) expect(md).toContain(heading);
    expect(md).toContain('| `actor_offboarded` | 1 |');
    expect(md).not.toContain('<script>');
    expect(md).toContain('retired&lt;/td>&lt;script>alert(1)&lt;/script>\\|x');
  });

  it('HTML is one self-contained page that escapes every value', () => {
    const html = renderHtml(first);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain(`Content-Security-Policy" content="default-src &#39;none&#39;`);
  });
});

describe('deliveries', () => {
  it('writes ID.{json,md,html} and latest.* into the reports directory', () => {
    const files = readdirSync(join(dir, 'reports')).sort();
    expect(files).toEqual([...['json', 'md', 'html'].flatMap((ext) => [`${first.id}.${ext}`, `${second.id}.${ext}`, `latest.${ext}`])].sort());
    expect(JSON.parse(readFileSync(join(dir, 'reports', 'latest.json'), 'utf8'))).toMatchObject({ id: second.id });
    expect(second.deliveries.map((d) => [d.target, d.status])).toEqual([['store', 'ok'], ['webhook', 'ok'], ['github_issue', 'ok'], ['directory', 'ok']]);
  });

  it('POSTs {text, report} to the webhook', () => {
    expect(hooks).toHaveLength(2);
    const posted = JSON.parse(hooks[0]!.body) as { text: string; report: RevocationReport };
    expect(hooks[0]!.headers['content-type']).toBe('application/json');
    expect(posted.text).toContain(first.id);
    expect(posted.report.id).toBe(first.id);
  });

  it('files one GitHub issue and appends each later report as a comment (append mode)', () => {
    const issues = github.issues(REPO.id);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ title: 'skillgate revocation reports', labels: ['skillgate'], state: 'open' });
    expect(issues[0]!.body).toContain(`# skillgate revocation report ${first.id}`);
    expect(issues[0]!.comments.map((c) => c.body.split('\n')[0])).toEqual([`# skillgate revocation report ${second.id}`]);
  });

  it('opens an issue per run in create mode', async () => {
    const report = await run(NOW + 2 * DAY, { mode: 'create' });
    const issues = github.issues(REPO.id);
    expect(issues).toHaveLength(2);
    expect(issues[1]!.title).toContain(report.id);
  });

  it('records a failed delivery as an error without failing the run', async () => {
    const report = await run(NOW + 3 * DAY, { repository: `${ORG.login}/no-such-repo` });
    expect(report.deliveries.find((d) => d.target === 'github_issue')).toMatchObject({ status: 'failed', detail: 'HTTP 404' });
    expect(report.errors).toContainEqual({ source: 'delivery:github_issue', message: 'HTTP 404' });
    expect(report.summary.status).toBe('degraded');
    expect(await db.store.getReport(report.id)).toBeDefined();
  });
});

describe('GET /v1/reports', () => {
  it('serves reports to operators only: list, latest, by id, as JSON, Markdown or HTML', async () => {
    const app = await buildApp({ config: config(), store: db.store, keys: createIssuerKeys(), now: Date.now });
    const auth = { authorization: `Bearer ${OPERATOR}` };
    try {
      expect((await app.inject({ url: '/v1/reports' })).statusCode).toBe(401);
      expect((await app.inject({ url: '/v1/reports/latest', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);

      const list = (await app.inject({ url: '/v1/reports', headers: auth })).json<{ data: { id: string; summary: { status: string } }[] }>();
      expect(list.data.length).toBeGreaterThanOrEqual(2);
      const latest = await app.inject({ url: '/v1/reports/latest', headers: auth });
      expect(latest.json<RevocationReport>().id).toBe(list.data[0]!.id);
      expect((await app.inject({ url: `/v1/reports/${first.id}`, headers: auth })).json<RevocationReport>().id).toBe(first.id);

      const md = await app.inject({ url: `/v1/reports/${first.id}?format=md`, headers: auth });
      expect(md.headers['content-type']).toContain('text/markdown');
      expect(md.body).toContain(`# skillgate revocation report ${first.id}`);
      const html = await app.inject({ url: `/v1/reports/${first.id}?format=html`, headers: auth });
      expect(html.headers['content-type']).toContain('text/html');
      expect(html.headers['content-security-policy']).toContain("default-src 'none'");

      expect((await app.inject({ url: '/v1/reports/rpt_0000000000000000', headers: auth })).statusCode).toBe(404);
      expect((await app.inject({ url: '/v1/reports/tok_0000000000000000', headers: auth })).statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });
});
