import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** A config value that names where a secret lives instead of holding it: `env:NAME` or `file:PATH`. */
export type SecretRef = `env:${string}` | `file:${string}`;

export class SecretRefError extends Error {
  override readonly name = 'SecretRefError';
}

/** `isSecretRef` tells a reference (`env:` / `file:`) apart from a literal value. */
export function isSecretRef(value: string): value is SecretRef {
  return value.startsWith('env:') || value.startsWith('file:');
}

/**
 * `resolveSecretRef` returns the secret a reference points at. Relative `file:` paths resolve
 * against `baseDir` (the config file's folder). Messages name the reference, never the value.
 */
export function resolveSecretRef(ref: SecretRef, baseDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (value === undefined || value === '') {
      throw new SecretRefError(`environment variable ${name} is not set or empty; export it before starting skillgate`);
    }
    return value;
  }
  const path = ref.slice(5);
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new SecretRefError(`cannot read secret file ${full} (${code}); check the path and its permissions`);
  }
  // Files written by `echo` or editors end in a newline that is not part of the secret.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new SecretRefError(`secret file ${full} is empty`);
  return value;
}
