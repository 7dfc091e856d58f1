import { readFileSync } from 'node:fs';

/**
 * The node flags `npm start` runs the broker bundle with (from package.json), so tests and
 * benchmarks start the broker exactly as the README's first command does.
 */
export function startNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const words = scripts.start.split(/\s+/);
  const bundle = words.indexOf('build/skillgate.mjs');
  if (words[0] !== 'node' || bundle === -1) throw new Error(`unexpected start script: ${scripts.start}`);
  return words.slice(1, bundle);
}
