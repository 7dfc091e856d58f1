// A token the reconciler revokes is refused by the real proxy on its very next call: GitHub-shaped
// OIDC issuer → broker (exchange + proxy) → stub Anthropic upstream, the official SDK as client,
// and the fake GitHub saying the actor left the org.
import Anthropic, { AuthenticationError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../broker/reconcile/reconcile.ts';
import { createReconcileDeps } from '../../broker/reconcile/reconcile-deps.ts';
import { startBroker, DEFAULT_POLICIES, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { FAKE_GITHUB_TOKEN, startFakeGithub, type FakeGithub } from '../fake-github/server.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';
import { FAST_GITHUB } from './fixtures.ts';

const OPERATOR = 'operator-credential-for-reports';
let issuer: OidcIssuer;
let stub: StubUpstream;
let github: FakeGithub;
let broker: TestBroker;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stub = await startStubUpstream();
  github = await startFakeGithub();
  github.addOrg('octo-org', 65);
  github.addMember('octo-org', { login: 'octocat', id: 12 });
  // An org never lists nobody: octocat leaving must not empty it (the brake would refuse that).
  github.addMember('octo-org', { login: 'hubot', id: 13 });
  github.addRepo({ id: 74, name: 'octo-repo', owner: { login: 'octo-org', id: 65 } });
  Object.assign(process.env, { TEST_UPSTREAM_KEY: STUB_API_KEY, TEST_GITHUB_TOKEN: FAKE_GITHUB_TOKEN, TEST_OPERATOR: OPERATOR });
  broker = await startBroker({
    issuerUrl: issuer.url,
    policies: [{ ...DEFAULT_POLICIES[0], grant: { ...DEFAULT_POLICIES[0]!.grant, models: ['claude-sonnet-5*'] } }],
    config: {
      upstream: { base_url: stub.url, credential: 'env:TEST_UPSTREAM_KEY' },
      operators: [{ name: 'security', token: 'env:TEST_OPERATOR' }],
      reconciler: { github: { token: 'env:TEST_GITHUB_TOKEN', orgs: ['octo-org'], api_url: github.url } },
    },
  });
});
afterAll(async () => {
  await broker.close();
  await github.close();
  await stub.close();
  await issuer.close();
});

const ask = { model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hello' }] };

describe('reconciler revocation through the proxy', () => {
  it('refuses an offboarded actor\u2019s token on the next call, and reports it to operators', async () => {
    const { body } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
    const token = body['access_token'] as string;
    const sdk = new Anthropic({ baseURL: broker.url, apiKey: token, maxRetries: 0 });
    // The proxy now has the token cached as live.
    expect((await sdk.messages.create(ask)).type).toBe('message');

    github.removeMember('octo-org', 'octocat');
    const deps = createReconcileDeps(broker.config, broker.store, { githubTiming: FAST_GITHUB });
    const outcome = await reconcile(deps, { trigger: 'cli' });
    deps.close();
    expect(outcome.status).toBe('completed');

    const before = stub.requests.length;
    await expect(sdk.messages.create(ask)).rejects.toBeInstanceOf(AuthenticationError);
    expect(stub.requests.length).toBe(before);
    const { records } = await broker.store.queryAudit({ type: 'reconcile.revoke', session: body['token_id'] as string });
    expect(records[0]).toMatchObject({ reason: 'actor_offboarded', outcome: 'revoked', actor: 'octocat' });

    const reports = await fetch(`${broker.url}/v1/reports/latest`, { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(reports.status).toBe(200);
    const report = (await reports.json()) as { revocations: { token_id: string; reason: string }[] };
    expect(report.revocations).toContainEqual(expect.objectContaining({ token_id: body['token_id'], reason: 'actor_offboarded' }));
  });
});
