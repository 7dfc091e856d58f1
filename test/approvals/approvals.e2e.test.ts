// Just-in-time approval end to end: the official @anthropic-ai/sdk calls the broker with skillgate
// tokens, a real HTTP receiver stands in for Slack, approvers decide over the broker API (with an
// operator credential or their own IdP ID token) and through the real `skillgate` CLI.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic, { PermissionDeniedError } from '@anthropic-ai/sdk';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAll } from '../../broker/approvals/approval-gate.ts';
import { registerApprovalRoutes } from '../../broker/approvals/approval-routes.ts';
import { createApprovalGate, type ApprovalService } from '../../broker/approvals/approval-service.ts';
import { buildApp } from '../../broker/app.ts';
import { parseConfig } from '../../broker/config/load-config.ts';
import { createIssuerKeys } from '../../broker/exchange/issuer-keys.ts';
import { createProxyDeps } from '../../broker/proxy/proxy-routes.ts';
import { openSqliteStore } from '../../broker/store/sqlite-store.ts';
import type { Store } from '../../broker/store/store.ts';
import { ID_TOKEN_TYPE, testConfigYaml, TOKEN_EXCHANGE } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OPS_TOKEN = 'ops-approver-credential-0123456789';
const ident = { repository_owner_id: '65', repository_id: '74' };
const approval = { for: ['model:claude-opus-*'], approvers: ['security', 'alice', 'bob'], valid_for: '5m' };
const grant = { scopes: ['messages:create'], models: ['claude-sonnet-5', 'claude-opus-*'], max_tokens: 4096, ttl: '15m' };

let github: OidcIssuer;
let idp: OidcIssuer;
let stub: StubUpstream;
let hooks: { server: Server; url: string; messages: { text: string }[] };
let broker: { url: string; app: FastifyInstance; store: Store; approvals: ApprovalService; dir: string };
/** Added to the broker's clock to let approvals lapse. */
let skewMs = 0;

beforeAll(async () => {
  [github, idp, stub, hooks] = await Promise.all([startOidcIssuer(), startOidcIssuer(), startStubUpstream(), startWebhookReceiver()]);
  process.env['TEST_UPSTREAM_KEY'] = STUB_API_KEY;
  process.env['TEST_OPS_TOKEN'] = OPS_TOKEN;
  broker = await startApprovalBroker();
});
afterAll(async () => {
  await broker.app.close();
  await broker.approvals.close();
  await broker.store.close();
  rmSync(broker.dir, { recursive: true, force: true });
  hooks.server.close();
  await Promise.all([github.close(), idp.close(), stub.close()]);
});

/**
 * The broker as `skillgate serve` builds it, from YAML an operator would write. While the proxy
 * deps still default to `allowAll`, the approval gate and its routes are added here the way the
 * app wires them.
 */
async function startApprovalBroker() {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-approvals-e2e-'));
  const yaml = testConfigYaml(
    {
      issuerUrl: github.url,
      extraIssuers: [{ name: 'idp', kind: 'oidc', issuer: idp.url }],
      policies: [
        { name: 'ci-hold', issuer: 'actions', match: { ...ident, environment: 'hold' }, grant: { ...grant, approval: { ...approval, mode: 'hold', wait: '20s' } } },
        { name: 'ci', issuer: 'actions', match: ident, grant: { ...grant, approval } },
        { name: 'people', issuer: 'idp', match: { sub: 'alice' }, grant: { ...grant, approval } },
      ],
      config: {
        upstream: { base_url: stub.url, credential: 'env:TEST_UPSTREAM_KEY' },
        operators: [{ name: 'ops', token: 'env:TEST_OPS_TOKEN' }],
        approvers: [{ name: 'security', operator: 'ops' }, { name: 'alice', issuer: 'idp', sub: 'alice' }, { name: 'bob', issuer: 'idp', sub: 'bob' }],
        approvals: { webhook_url: hooks.url, pending_timeout: '10m' },
      },
    },
    dir,
  );
  const config = parseConfig(yaml, { source: 'test.yaml', baseDir: dir, env: process.env });
  const store = openSqliteStore(config.storePath);
  const keys = createIssuerKeys();
  const now = () => Date.now() + skewMs;
  const proxy = createProxyDeps(config, store, now)!;
  const wired = proxy.approvals !== allowAll;
  const approvals = wired ? (proxy.approvals as ApprovalService) : createApprovalGate({ storePath: config.storePath, config, now, audit: async (r) => void (await store.appendAudit(r)) });
  const app = await buildApp({ config, store, keys, now, proxy: { ...proxy, approvals } });
  if (!app.hasRoute({ method: 'GET', url: '/v1/approvals' })) registerApprovalRoutes(app, { approvals, config, keys, now });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, app, store, approvals, dir };
}

async function startWebhookReceiver() {
  const messages: { text: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      messages.push(JSON.parse(body) as { text: string });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/hook`, messages };
}

async function exchange(issuer: OidcIssuer, claims: Record<string, unknown> = {}): Promise<{ token: string; tokenId: string }> {
  const subjectToken = issuer === idp ? await idToken(claims['sub'] as string) : await github.sign(github.githubClaims(claims));
  const res = await fetch(`${broker.url}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ID_TOKEN_TYPE }),
  });
  const body = (await res.json()) as Record<string, string>;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { token: body['access_token']!, tokenId: body['token_id']! };
}

/** A person's ID token from the IdP (no GitHub claims). */
const idToken = (sub: string) => idp.sign(idp.githubClaims({ sub, actor: undefined, repository: undefined, email: `${sub}@acme.example` }), { header: { x5t: undefined } });

const sdk = (token: string) => new Anthropic({ baseURL: broker.url, apiKey: token, maxRetries: 0 });
const opus = (content = 'write the release notes') => ({ model: 'claude-opus-5', max_tokens: 256, messages: [{ role: 'user' as const, content }] });

/** The PermissionDeniedError the SDK raised; fails the test when the call succeeded. */
async function denied(call: Promise<unknown>): Promise<PermissionDeniedError & { details: Record<string, unknown> }> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PermissionDeniedError);
  return err as PermissionDeniedError & { details: Record<string, unknown> };
}

async function decide(id: string, decision: 'approve' | 'deny', credential: string, body: Record<string, unknown> = {}) {
  const res = await fetch(`${broker.url}/v1/approvals/${id}/${decision}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'broker/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

/** Waits for the webhook message announcing an approval (delivery is fire-and-forget). */
async function announced(id: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const found = hooks.messages.find((m) => m.text.includes(id));
    if (found) return found.text;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no webhook message for ${id}`);
}

describe('approval with the official SDK', () => {
  it('refused, then approved, then retried: the identical request passes once', async () => {
    const { token, tokenId } = await exchange(github);
    const before = stub.requests.length;
    const err = await denied(sdk(token).messages.create(opus(), { headers: { 'x-skillgate-justification': 'release v2.0 notes' } }));
    expect(err.status).toBe(403);
    expect(err.errorCode).toBe('approval_required');
    expect(err.headers?.get('x-should-retry')).toBe('false');
    const id = err.details['approval_id'] as string;
    expect(err.message).toContain(id);
    expect(stub.requests.length).toBe(before);

    const text = await announced(id);
    expect(text).toMatch(/octo-org\/octo-repo run 1234567890 .*triggered by octocat/);
    expect(text).toMatch(/model claude-opus-5/);
    expect(text).toContain('release v2.0 notes');
    expect(text).not.toContain(token);

    expect(await decide(id, 'approve', OPS_TOKEN, { reason: 'release day' })).toMatchObject({ status: 200, body: { state: 'approved', decided_by: 'operator:ops' } });
    const message = await sdk(token).messages.create(opus(), { headers: { 'x-skillgate-justification': 'release v2.0 notes' } });
    expect(message.type).toBe('message');
    expect(stub.requests.length).toBe(before + 1);

    const again = await denied(sdk(token).messages.create(opus()));
    expect(again.errorCode).toBe('approval_required');
    expect(again.details['approval_id']).not.toBe(id);

    const steps = (await broker.store.auditSession(tokenId)).filter((r) => r.type.startsWith('approval.')).map((r) => r.type);
    expect(steps).toEqual(['approval.requested', 'approval.approved', 'approval.used', 'approval.requested']);
  });

  it('held, then approved through the CLI: the held call returns the message', async () => {
    const { token } = await exchange(github, { environment: 'hold' });
    const held = sdk(token).messages.create(opus('held request'));
    const id = await pendingId((m) => m.includes('policy ci-hold'));
    const cli = await runCli(['approvals', 'approve', id, '--reason', 'looks fine'], { SKILLGATE_BROKER_URL: broker.url, SKILLGATE_APPROVER_TOKEN: OPS_TOKEN });
    expect(cli, cli.stderr).toMatchObject({ code: 0, stdout: `approved ${id}\n` });
    expect((await held).type).toBe('message');
  });

  it('denied: the request stays refused with approval_denied', async () => {
    const { token } = await exchange(github);
    const id = (await denied(sdk(token).messages.create(opus('deny me')))).details['approval_id'] as string;
    expect(await decide(id, 'deny', await idToken('bob'), { reason: 'not for docs' })).toMatchObject({ status: 200, body: { state: 'denied', decided_by: 'oidc:idp:bob' } });
    const err = await denied(sdk(token).messages.create(opus('deny me')));
    expect(err.errorCode).toBe('approval_denied');
    expect(err.message).toMatch(/denied by oidc:idp:bob \(not for docs\)/);
  });

  it('self-approval refused: a person cannot approve the request of their own token', async () => {
    const { token } = await exchange(idp, { sub: 'alice' });
    const id = (await denied(sdk(token).messages.create(opus('my own request')))).details['approval_id'] as string;
    expect(await decide(id, 'approve', await idToken('alice'))).toMatchObject({ status: 403, body: { reason: 'self_approval' } });
    await expect(sdk(token).messages.create(opus('my own request'))).rejects.toMatchObject({ errorCode: 'approval_required' });
    expect(await decide(id, 'approve', await idToken('bob'))).toMatchObject({ status: 200 });
    expect((await sdk(token).messages.create(opus('my own request'))).type).toBe('message');
  });

  it('fingerprint mismatch refused: an approval covers only the exact request it was given for', async () => {
    const { token, tokenId } = await exchange(github);
    const { token: otherToken } = await exchange(github);
    const idA = (await denied(sdk(token).messages.create(opus('request A')))).details['approval_id'] as string;
    await decide(idA, 'approve', OPS_TOKEN);

    const b = await denied(sdk(token).messages.create(opus('request B')));
    expect(b.errorCode).toBe('approval_required');
    expect(b.details['approval_id']).not.toBe(idA);
    const other = await denied(sdk(otherToken).messages.create(opus('request A')));
    expect(other.details['approval_id']).not.toBe(idA);
    expect(await decide(other.details['approval_id'] as string, 'approve', OPS_TOKEN, { token_id: tokenId })).toMatchObject({ status: 409, body: { reason: 'approval_mismatch' } });

    expect((await sdk(token).messages.create(opus('request A'))).type).toBe('message');
  });

  it('expired: an approval not used within valid_for answers approval_expired with a new approval id', async () => {
    const { token } = await exchange(github);
    const id = (await denied(sdk(token).messages.create(opus('too late')))).details['approval_id'] as string;
    await decide(id, 'approve', OPS_TOKEN);
    skewMs = 6 * 60_000;
    try {
      const err = await denied(sdk(token).messages.create(opus('too late')));
      expect(err.errorCode).toBe('approval_expired');
      expect(err.details).toMatchObject({ expired_approval_id: id });
      expect(err.details['approval_id']).not.toBe(id);
    } finally {
      skewMs = 0;
    }
  });
});

describe('approvals API', () => {
  it('needs an approver credential: none, a skillgate token or a stranger’s ID token are refused', async () => {
    const { token } = await exchange(github);
    expect((await fetch(`${broker.url}/v1/approvals`)).status).toBe(401);
    expect((await fetch(`${broker.url}/v1/approvals`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const stranger = await fetch(`${broker.url}/v1/approvals`, { headers: { authorization: `Bearer ${await idToken('mallory')}` } });
    expect(stranger.status).toBe(403);
    expect(((await stranger.json()) as { reason: string }).reason).toBe('not_an_approver');
  });

  it('lists pending approvals for an approver (API and CLI) and describes one', async () => {
    const { token } = await exchange(github);
    const id = (await denied(sdk(token).messages.create(opus('list me')))).details['approval_id'] as string;
    const res = await fetch(`${broker.url}/v1/approvals`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    const list = ((await res.json()) as { data: { id: string; request: unknown; requester: unknown }[] }).data;
    expect(list.find((a) => a.id === id)).toMatchObject({ request: { operation: 'messages:create', models: ['claude-opus-5'] }, requester: { repository: 'octo-org/octo-repo', actor: 'octocat' } });
    const one = await fetch(`${broker.url}/v1/approvals/${id}`, { headers: { authorization: `Bearer ${await idToken('alice')}` } });
    expect(await one.json()).toMatchObject({ id, state: 'pending', approvers: ['security', 'alice', 'bob'] });

    const cli = await runCli(['approvals', 'list'], { SKILLGATE_BROKER_URL: broker.url, SKILLGATE_APPROVER_TOKEN: OPS_TOKEN });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(id);
    expect(cli.stdout).not.toContain(token);
  });

  it('describes the approval routes in /openapi.json', async () => {
    const doc = (await (await fetch(`${broker.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/approvals', '/v1/approvals/{id}', '/v1/approvals/{id}/approve', '/v1/approvals/{id}/deny']));
  });
});

/** The id of the newest pending approval whose webhook text passes `match` (a held request is still open). */
async function pendingId(match: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const text = hooks.messages.findLast((m) => match(m.text))?.text;
    const id = text === undefined ? undefined : /`(apr_[0-9A-Za-z]{16})`/.exec(text)?.[1];
    if (id !== undefined) return id;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no pending approval announced');
}
