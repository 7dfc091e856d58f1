// `npm start` runs the esbuild bundle of broker/ (build/skillgate.mjs), not the TypeScript: this
// proves the bundle builds and serves, so the README's first command stays true.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { testConfigYaml } from './helpers/broker.ts';
import { startOidcIssuer } from './helpers/oidc-issuer.ts';
import { startNodeFlags } from './helpers/start-command.ts';
import { freePort } from './helpers/free-port.ts';

const dir = mkdtempSync(join(tmpdir(), 'skillgate-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('builds the broker bundle and serves /healthz and a token exchange from it', async () => {
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'pipe' });
  const issuer = await startOidcIssuer();
  const port = await freePort();
  writeFileSync(join(dir, 'skillgate.yaml'), testConfigYaml({ issuerUrl: issuer.url, config: { listen: { host: '127.0.0.1', port }, log: { level: 'warn' } } }, dir));
  const child = spawn(process.execPath, [...startNodeFlags(), 'build/skillgate.mjs', 'serve', '--config', join(dir, 'skillgate.yaml')], { stdio: 'ignore' });
  try {
    const url = `http://127.0.0.1:${port}`;
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      healthy = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (!healthy) await sleep(100);
    }
    expect(healthy).toBe(true);
    const res = await fetch(`${url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: await issuer.sign(issuer.githubClaims()), subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { access_token: string }).access_token).toMatch(/^sgt_/);
  } finally {
    child.kill('SIGKILL');
    await issuer.close();
  }
});
