import { isAbsolute, resolve } from 'node:path';
import { resolveSecretRef, SecretRefError } from '../config/secret-ref.ts';
import type { EnvCredentialRef, FileCredentialRef } from './credential-ref.ts';
import { SecretSourceError, type SecretSource } from './credential-provider.ts';

/**
 * `createStaticSource` reads an `env:` or `file:` reference. Every fetch reads again, so rotating a
 * mounted secret file (a Kubernetes secret volume, a systemd credential) takes effect on refresh.
 */
export function createStaticSource(
  ref: EnvCredentialRef | FileCredentialRef,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): SecretSource {
  const secretRef = ref.kind === 'env' ? (`env:${ref.name}` as const) : (`file:${ref.path}` as const);
  const description =
    ref.kind === 'env' ? secretRef : `file:${isAbsolute(ref.path) ? ref.path : resolve(baseDir, ref.path)}`;
  return {
    description,
    async fetch() {
      try {
        return resolveSecretRef(secretRef, baseDir, env);
      } catch (err) {
        // resolveSecretRef's messages name the reference, never the value, so they may travel on.
        if (err instanceof SecretRefError) throw new SecretSourceError(err.message);
        throw err;
      }
    },
    close() {},
  };
}
