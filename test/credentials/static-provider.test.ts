import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createCredentialProvider,
  CredentialUnavailableError,
  type CredentialProvider,
} from '../../broker/credentials/index.ts';

const MINUTE = 60_000;
const KEY_1 = 'sk-ant-file-key-one-7a1f';
const KEY_2 = 'sk-ant-file-key-two-93c2';
const SECRETS = [KEY_1, KEY_2];

let dir: string;
let clock: number;
const providers: CredentialProvider[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-credentials-'));
  clock = 1_700_000_000_000;
});

afterEach(() => {
  for (const provider of providers.splice(0)) provider.close();
  rmSync(dir, { recursive: true, force: true });
});

function provide(ref: string, env: NodeJS.ProcessEnv = {}): CredentialProvider {
  const provider = createCredentialProvider(ref, {
    baseDir: dir,
    env,
    refreshIntervalMs: MINUTE,
    staleWindowMs: 10 * MINUTE,
    now: () => clock,
  });
  providers.push(provider);
  return provider;
}

describe('file: provider', () => {
  it('reads the key relative to the config folder, without the trailing newline', async () => {
    writeFileSync(join(dir, 'key.txt'), `${KEY_1}\n`);
    const provider = provide('file:key.txt');
    expect(provider.isUsable()).toBe(false);
    expect(await provider.current()).toBe(KEY_1);
    expect(provider.isUsable()).toBe(true);
  });

  it('picks up a rotated file after the upstream rejects the old key', async () => {
    writeFileSync(join(dir, 'key.txt'), KEY_1);
    const provider = provide('file:key.txt');
    expect(await provider.current()).toBe(KEY_1);

    writeFileSync(join(dir, 'key.txt'), KEY_2);
    expect(await provider.current()).toBe(KEY_1); // still fresh: served from cache
    expect(await provider.refreshAfterRejection(KEY_1)).toBe(KEY_2);
    expect(await provider.current()).toBe(KEY_2);
  });

  it('returns the rejected key when the file still holds it, so the caller can give up', async () => {
    writeFileSync(join(dir, 'key.txt'), KEY_1);
    const provider = provide('file:key.txt');
    await provider.current();
    expect(await provider.refreshAfterRejection(KEY_1)).toBe(KEY_1);
  });

  it('picks up a rotated file in the background once the refresh interval has passed', async () => {
    writeFileSync(join(dir, 'key.txt'), KEY_1);
    const provider = provide('file:key.txt');
    await provider.current();

    writeFileSync(join(dir, 'key.txt'), KEY_2);
    clock += 2 * MINUTE;
    expect(await provider.current()).toBe(KEY_1); // served while the refresh runs
    await vi.waitFor(async () => expect(await provider.current()).toBe(KEY_2));
  });

  it('serves the cached key while the file is gone, until the stale window is spent', async () => {
    writeFileSync(join(dir, 'key.txt'), KEY_1);
    const provider = provide('file:key.txt');
    await provider.current();
    unlinkSync(join(dir, 'key.txt'));

    clock += 5 * MINUTE;
    expect(await provider.current()).toBe(KEY_1);
    await settle();
    expect(provider.isUsable()).toBe(true);

    clock += 6 * MINUTE;
    const err = await expectUnavailable(provider.current());
    expect(err.message).toContain(`cannot read secret file ${join(dir, 'key.txt')} (ENOENT)`);
    expect(err.message).toContain('past its stale window');
    expect(provider.isUsable()).toBe(false);

    writeFileSync(join(dir, 'key.txt'), KEY_2);
    clock += MINUTE; // past the backoff that follows a failed read
    expect(await provider.current()).toBe(KEY_2);
    expect(provider.isUsable()).toBe(true);
  });

  it('fails closed, naming the path, when the file is missing at start', async () => {
    const provider = provide('file:missing.txt');
    const err = await expectUnavailable(provider.current());
    expect(err.message).toContain(join(dir, 'missing.txt'));
    expect(err.message).toMatch(/check the path and its permissions/);
  });

  it('fails closed on an empty file', async () => {
    writeFileSync(join(dir, 'key.txt'), '\n');
    const err = await expectUnavailable(provide('file:key.txt').current());
    expect(err.message).toMatch(/is empty/);
  });
});

describe('env: provider', () => {
  it('reads the variable from the injected environment', async () => {
    expect(await provide('env:UPSTREAM_KEY', { UPSTREAM_KEY: KEY_1 }).current()).toBe(KEY_1);
  });

  it('fails closed, naming the variable, when it is not set', async () => {
    const provider = provide('env:UPSTREAM_KEY', {});
    const err = await expectUnavailable(provider.current());
    expect(err.message).toMatch(/environment variable UPSTREAM_KEY is not set or empty; export it/);
    expect(provider.isUsable()).toBe(false);
  });
});

describe('a provider', () => {
  it('keeps its value out of util.inspect and JSON', async () => {
    const provider = provide('env:UPSTREAM_KEY', { UPSTREAM_KEY: KEY_1 });
    await provider.current();
    expectNoSecretIn(inspect(provider, { showHidden: true, depth: 10 }));
    expectNoSecretIn(JSON.stringify(provider));
  });

  it('serves nothing once closed', async () => {
    const provider = provide('env:UPSTREAM_KEY', { UPSTREAM_KEY: KEY_1 });
    await provider.current();
    provider.close();
    await expectUnavailable(provider.current());
    expect(provider.isUsable()).toBe(false);
  });
});

/** Lets a background refresh of a file finish: a file is read within one turn of the event loop. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Awaits a CredentialUnavailableError and checks that nothing in it carries a key. */
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
