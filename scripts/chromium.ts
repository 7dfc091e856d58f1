// Headless Chromium for the revocation report: Debian's `chromium` (apt-get install -y chromium),
// or the binary named by $CHROMIUM. Shared by scripts/screenshot-report.ts and the report test.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `findChromium` returns the browser's path, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const wanted = process.env['CHROMIUM'] ?? 'chromium';
  try {
    return execFileSync('sh', ['-c', `command -v "$0"`, wanted], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `runChromium` opens a local HTML file headless with a throwaway profile and no network
 * services, plus `extra` (`--dump-dom`, `--screenshot=…`), and returns stdout.
 */
export function runChromium(browser: string, htmlPath: string, extra: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'skillgate-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    ...extra,
    pathToFileURL(htmlPath).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(browser, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`${browser} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
