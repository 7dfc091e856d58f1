import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type CreateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createCredentialProvider,
  CredentialUnavailableError,
  type CredentialProvider,
} from '../../broker/credentials/index.ts';
import { startMoto, type Moto } from '../helpers/moto.ts';

const REGION = 'us-east-1';
const MINUTE = 60_000;
const GET_SECRET_VALUE = 'secretsmanager.GetSecretValue';
const KEY_1 = 'sk-ant-api03-first-5b0c1d';
const KEY_2 = 'sk-ant-api03-second-e83a44';
const LEAKY = 'sk-ant-api03-leaky-77f0a9';
/** Every value stored in Secrets Manager below: none may show up in an error. */
const SECRETS = [KEY_1, KEY_2, LEAKY];

let moto: Moto;
let admin: SecretsManagerClient;
let clock = 1_700_000_000_000;
let nextSecret = 0;
const providers: CredentialProvider[] = [];

beforeAll(async () => {
  // The provider takes credentials from the SDK's default chain, which starts at the environment.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  vi.stubEnv('AWS_SESSION_TOKEN', undefined);
  vi.stubEnv('AWS_PROFILE', undefined);
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  moto = await startMoto();
  admin = adminClient(moto);
});

afterEach(() => {
  for (const provider of providers.splice(0)) provider.close();
});

afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
  vi.unstubAllEnvs();
});

function adminClient(target: Moto): SecretsManagerClient {
  return new SecretsManagerClient({
    region: REGION,
    endpoint: target.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

/** Creates a secret under a fresh name and returns its name and ARN. */
async function createSecret(value: Omit<CreateSecretCommandInput, 'Name'>, client = admin) {
  const name = `prod/anthropic-${++nextSecret}`;
  const { ARN } = await client.send(new CreateSecretCommand({ Name: name, ...value }));
  if (ARN === undefined) throw new Error('moto returned no ARN');
  return { name, arn: ARN };
}

function provide(target: Moto, secretId: string, query = ''): CredentialProvider {
  const ref = `aws-sm://${secretId}?region=${REGION}&endpoint=${target.endpoint}${query}`;
  const provider = createCredentialProvider(ref, {
    env: {},
    refreshIntervalMs: MINUTE,
    staleWindowMs: 10 * MINUTE,
    now: () => clock,
  });
  providers.push(provider);
  return provider;
}

describe('aws-sm provider against moto', () => {
  it('fetches a plain SecretString by name, with the trailing newline dropped', async () => {
    const { name } = await createSecret({ SecretString: `${KEY_1}\n` });
    const provider = provide(moto, name);
    expect(provider.isUsable()).toBe(false);
    expect(await provider.current()).toBe(KEY_1);
    expect(provider.isUsable()).toBe(true);
  });

  it('fetches a secret by full ARN, taking the region from it', async () => {
    const { arn } = await createSecret({ SecretString: KEY_1 });
    const provider = createCredentialProvider(`aws-sm://${arn}?endpoint=${moto.endpoint}`, { env: {} });
    providers.push(provider);
    expect(await provider.current()).toBe(KEY_1);
  });

  it('picks the JSON field named by key=', async () => {
    const { name } = await createSecret({ SecretString: JSON.stringify({ api_key: KEY_1, note: 'prod' }) });
    expect(await provide(moto, name, '&key=api_key').current()).toBe(KEY_1);
  });

  it('serves repeated calls from its cache: one GetSecretValue', async () => {
    const { name } = await createSecret({ SecretString: KEY_1 });
    const provider = provide(moto, name);
    const before = moto.countCalls(GET_SECRET_VALUE);
    const values = await Promise.all(Array.from({ length: 10 }, () => provider.current()));
    for (let i = 0; i < 10; i++) values.push(await provider.current());
    expect(new Set(values)).toStrictEqual(new Set([KEY_1]));
    expect(moto.countCalls(GET_SECRET_VALUE) - before).toBe(1);
  });

  it('follows a rotation after a 401: 20 concurrent rejections cost one GetSecretValue', async () => {
    const { name } = await createSecret({ SecretString: KEY_1 });
    const provider = provide(moto, name);
    expect(await provider.current()).toBe(KEY_1);

    await admin.send(new PutSecretValueCommand({ SecretId: name, SecretString: KEY_2 }));
    expect(await provider.current()).toBe(KEY_1); // still fresh: no fetch

    const before = moto.countCalls(GET_SECRET_VALUE);
    const refreshed = await Promise.all(Array.from({ length: 20 }, () => provider.refreshAfterRejection(KEY_1)));
    expect(refreshed).toStrictEqual(Array.from({ length: 20 }, () => KEY_2));
    expect(moto.countCalls(GET_SECRET_VALUE) - before).toBe(1);

    // A rejection of the old key reported after the refresh finished is answered from the cache.
    expect(await provider.refreshAfterRejection(KEY_1)).toBe(KEY_2);
    expect(await provider.current()).toBe(KEY_2);
    expect(moto.countCalls(GET_SECRET_VALUE) - before).toBe(1);
  });

  it('returns the rejected key when Secrets Manager still holds it, so the caller can give up', async () => {
    const { name } = await createSecret({ SecretString: KEY_1 });
    const provider = provide(moto, name);
    await provider.current();
    expect(await provider.refreshAfterRejection(KEY_1)).toBe(KEY_1);
  });

  it('follows a rotation in the background once the refresh interval has passed', async () => {
    const { name } = await createSecret({ SecretString: KEY_1 });
    const provider = provide(moto, name);
    await provider.current();
    await admin.send(new PutSecretValueCommand({ SecretId: name, SecretString: KEY_2 }));

    clock += 2 * MINUTE;
    expect(await provider.current()).toBe(KEY_1); // served while the refresh runs
    await vi.waitFor(async () => expect(await provider.current()).toBe(KEY_2));
  });

  it('fails closed with a clear message for a secret that does not exist', async () => {
    const err = await expectUnavailable(provide(moto, 'prod/does-not-exist').current());
    expect(err.message).toBe(
      `upstream credential from aws-sm secret prod/does-not-exist in ${REGION} is unavailable: ` +
        `aws-sm secret prod/does-not-exist in ${REGION} was not found; check the secret id, region and AWS account`,
    );
  });

  it.each([
    ['a SecretBinary', { SecretBinary: new TextEncoder().encode(LEAKY) }, '', /stores SecretBinary; store the key as a SecretString/],
    ['JSON without the asked-for field', { SecretString: JSON.stringify({ other: LEAKY }) }, '&key=api_key', /has no JSON field api_key \(fields present: other\); fix key=/],
    ['a non-string field', { SecretString: JSON.stringify({ api_key: 42, other: LEAKY }) }, '&key=api_key', /field api_key is a number, not a string/],
    // JSON.parse would quote this text in its error: the provider must not pass that on.
    ['broken JSON with key=', { SecretString: `{"api_key": ${LEAKY}}` }, '&key=api_key', /is not a JSON object but key=api_key was asked for/],
    ['a JSON object without key=', { SecretString: JSON.stringify({ api_key: LEAKY }) }, '', /holds a JSON object; add &key=FIELD/],
  ])('fails closed, without quoting the secret, on %s', async (_case, value, query, message) => {
    const { name } = await createSecret(value);
    const provider = provide(moto, name, query);
    const err = await expectUnavailable(provider.current());
    expect(err.message).toMatch(message);
    expect(err.message).toContain(name);
    expect(provider.isUsable()).toBe(false);
  });

  it('keeps the fetched value out of util.inspect and JSON', async () => {
    const { name } = await createSecret({ SecretString: KEY_1 });
    const provider = provide(moto, name);
    await provider.current();
    expectNoSecretIn(inspect(provider, { showHidden: true, depth: 10 }));
    expectNoSecretIn(JSON.stringify(provider));
  });
});

describe('aws-sm provider when Secrets Manager is down', () => {
  let down: Moto;
  beforeAll(async () => {
    down = await startMoto();
  });
  afterAll(async () => {
    await down?.stop();
  });

  it('serves the cached key inside the stale window, fails closed after it, and recovers', async () => {
    const writer = adminClient(down);
    try {
      const { name } = await createSecret({ SecretString: KEY_1 }, writer);
      const provider = provide(down, name);
      expect(await provider.current()).toBe(KEY_1);

      await down.stop();
      clock += 5 * MINUTE; // past the refresh interval: a background refresh starts and fails
      expect(await provider.current()).toBe(KEY_1);
      expect(provider.isUsable()).toBe(true);

      clock += 6 * MINUTE; // past the stale window
      const err = await expectUnavailable(provider.current());
      expect(err.message).toMatch(
        new RegExp(`aws-sm secret ${name} in ${REGION} is unavailable and the value fetched \\d+ s ago is past its stale window`),
      );
      expect(err.message).toMatch(/cannot reach Secrets Manager .* \(ECONNREFUSED\)/);
      expect(provider.isUsable()).toBe(false);

      // moto restarts empty; the secret comes back rotated, as after a restore.
      await down.restart();
      await writer.send(new CreateSecretCommand({ Name: name, SecretString: KEY_2 }));
      clock += MINUTE; // past the backoff after the failed fetch
      expect(await provider.current()).toBe(KEY_2);
      expect(provider.isUsable()).toBe(true);
    } finally {
      writer.destroy();
    }
  });

  it('fails closed instead of hanging when Secrets Manager accepts connections but never answers', async () => {
    const { server, endpoint, close } = await silentServer();
    try {
      const provider = createCredentialProvider(`aws-sm://prod/anthropic?region=${REGION}&endpoint=${endpoint}`, {
        env: {},
      });
      providers.push(provider);
      const err = await expectUnavailable(provider.current());
      expect(err.message).toMatch(/Secrets Manager did not answer for aws-sm secret prod\/anthropic in us-east-1 in time/);
      expect(server.listening).toBe(true);
    } finally {
      await close();
    }
  });
});

/** Awaits a CredentialUnavailableError and checks that nothing in it (message, stack, fields) carries a key. */
async function expectUnavailable(promise: Promise<unknown>): Promise<CredentialUnavailableError> {
  const err = await promise.then(
    () => {
      throw new Error('expected CredentialUnavailableError');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CredentialUnavailableError);
  expect(err).toMatchObject({ code: 'credential_unavailable' });
  expectNoSecretIn(inspect(err, { showHidden: true, depth: 10 }));
  return err as CredentialUnavailableError;
}

/** Fails on any 8-character run of a secret, so a quoted fragment counts as a leak too. */
function expectNoSecretIn(text: string): void {
  for (const secret of SECRETS) {
    for (let i = 0; i + 8 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 8));
  }
}

/** A TCP server that accepts connections and never answers: a hung endpoint. */
async function silentServer(): Promise<{ server: Server; endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    server,
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
