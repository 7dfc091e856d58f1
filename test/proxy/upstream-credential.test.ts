// The real key lives in AWS Secrets Manager (moto_server, driven by the real AWS SDK): the proxy
// fetches it, survives a rotation without a failed call, serves a cached key through a short
// outage and fails closed with 503 once the stale window has passed.
import Anthropic, { InternalServerError } from '@anthropic-ai/sdk';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBroker, DEFAULT_POLICIES, type TestBroker } from '../helpers/broker.ts';
import { startMoto, type Moto } from '../helpers/moto.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream } from '../stub-upstream/server.ts';

const ROTATED_KEY = 'sk-ant-api03-rotated-key-1111111111111111111111111111';
const policies = [{ ...DEFAULT_POLICIES[0], grant: { scopes: ['messages:create'], models: ['claude-sonnet-5*'], max_tokens: 1024, tools: { custom: 'allow' }, ttl: '1h' } }];
const ask = { model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hello' }] };

let moto: Moto;
let issuer: OidcIssuer;
let stub: StubUpstream;
let broker: TestBroker;
let client: Anthropic;
let aws: SecretsManagerClient;
let now = Date.now();

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  moto = await startMoto();
  aws = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await aws.send(new CreateSecretCommand({ Name: 'prod/anthropic', SecretString: JSON.stringify({ api_key: STUB_API_KEY }) }));
  issuer = await startOidcIssuer({ now: () => now });
  stub = await startStubUpstream();
  broker = await startBroker({
    issuerUrl: issuer.url,
    policies,
    now: () => now,
    config: {
      upstream: {
        base_url: stub.url,
        credential: `aws-sm://prod/anthropic?region=us-east-1&key=api_key&endpoint=${moto.endpoint}`,
        refresh_interval: '30s',
        stale_window: '2m',
      },
    },
  });
  const { body } = await broker.exchange(await issuer.sign(issuer.githubClaims()));
  client = new Anthropic({ baseURL: broker.url, apiKey: String(body['access_token']), maxRetries: 0 });
});
afterAll(async () => {
  await broker.close();
  await stub.close();
  await issuer.close();
  await moto.stop();
  vi.unstubAllEnvs();
});

describe('upstream key from AWS Secrets Manager', () => {
  it('injects the key fetched from Secrets Manager', async () => {
    await client.messages.create(ask);
    expect(stub.requests.at(-1)!.headers['x-api-key']).toBe(STUB_API_KEY);
  });

  it('rotates without a failed call: upstream 401 → one refresh → one retry', async () => {
    await aws.send(new PutSecretValueCommand({ SecretId: 'prod/anthropic', SecretString: JSON.stringify({ api_key: ROTATED_KEY }) }));
    stub.setApiKeys([ROTATED_KEY]);
    const before = stub.requests.length;
    const message = await client.messages.create(ask);
    expect(message.type).toBe('message');
    const seen = stub.requests.slice(before).map((r) => r.headers['x-api-key']);
    expect(seen).toEqual([STUB_API_KEY, ROTATED_KEY]);
  });

  it('serves the cached key through an outage, then fails closed with 503 after the stale window', async () => {
    await moto.stop();
    now += 60_000; // past the refresh interval, inside the stale window
    await expect(client.messages.create(ask)).resolves.toMatchObject({ type: 'message' });
    now += 120_000; // past the stale window
    const before = stub.requests.length;
    const err = await client.messages.create(ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).status).toBe(503);
    expect((err as InternalServerError).message).toMatch(/credential is unavailable/);
    expect(stub.requests.length).toBe(before);
    const ready = await fetch(`${broker.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('"upstream_credential":"unavailable"');
  });
});
