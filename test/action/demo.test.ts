// `npm run demo` is in the README, so a test runs it: the whole story must work from a clone.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './runner.ts';

describe('npm run demo', () => {
  it('runs main, SDK calls, post, and prints the job summary', async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'demo'], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toContain('→ exit code 0');
    expect(stdout).toMatch(/claude-opus-5: blocked, PermissionDeniedError 403/);
    expect(stdout).toMatch(/\[MASKED:[a-z0-9-]+\]/);
    expect(stdout).toContain('GET /v1/whoami with the token now → 401 token_revoked');
    expect(stdout).toContain('| 3 | 2 | 1 | 0 |');
    expect(stdout).not.toMatch(/sgt_[A-Za-z0-9]{20,}/);
  });
});
