import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `isEntryPoint` tells whether the module at `moduleUrl` is the script node was started with, so
 * `main.ts` and `post.ts` run themselves under the runner (`node dist/main.js`) but not when a
 * test imports them.
 */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
