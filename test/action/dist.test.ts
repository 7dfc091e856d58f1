// dist/ is what the runner executes, so it must be exactly what `npm run bundle` makes of action/
// now (the check-dist workflow checks the same in CI), hold none of the broker, and match action.yml.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './runner.ts';

const fresh = mkdtempSync(join(tmpdir(), 'skillgate-dist-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: Record<string, string>;
}
const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionYml;
const source = (file: string) => readFileSync(join(ROOT, 'action', file), 'utf8');

describe('dist/', () => {
  it('is exactly what npm run bundle builds from action/ (run it and commit dist/ if this fails)', () => {
    // The same script, with its --outdir overridden: esbuild takes the last one.
    execFileSync('npm', ['run', '--silent', 'bundle', '--', `--outdir=${fresh}`], { cwd: ROOT, stdio: 'pipe' });
    const committed = readdirSync(join(ROOT, 'dist')).sort();
    expect(committed).toEqual(readdirSync(fresh).sort());
    for (const file of committed) {
      expect(readFileSync(join(ROOT, 'dist', file), 'utf8') === readFileSync(join(fresh, file), 'utf8'), `dist/${file} is stale`).toBe(true);
    }
  });

  it.each(['fastify', 'better-sqlite3', 'broker/', 'pino', 'prom-client', '@aws-sdk'])('holds no broker code (%s)', (needle) => {
    for (const file of readdirSync(join(ROOT, 'dist'))) expect(readFileSync(join(ROOT, 'dist', file), 'utf8')).not.toContain(needle);
  });
});

describe('action.yml', () => {
  it('runs the bundle on node24 with a post step that always runs', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/main.js', post: 'dist/post.js', 'post-if': 'always()' });
  });

  it('declares exactly the inputs the Action reads, each described in full sentences', () => {
    const read = [...source('inputs.ts').matchAll(/getInput(?:\(|, )'([a-z-]+)'/g)].map((m) => m[1]);
    expect(Object.keys(action.inputs).sort()).toEqual([...new Set(read)].sort());
    for (const [name, input] of Object.entries(action.inputs)) expect(input.description, name).toMatch(/^[A-Z].*\.$/s);
    expect(action.inputs['github-token']?.default).toBe('${{ github.token }}');
  });

  it('declares exactly the outputs main sets', () => {
    const set = [...source('main.ts').matchAll(/setOutput\('([a-z-]+)'/g)].map((m) => m[1]);
    expect(Object.keys(action.outputs).sort()).toEqual(set.sort());
    expect(Object.keys(action.outputs).sort()).toEqual(['base-url', 'expires-at', 'session-id', 'token']);
  });

  it('keeps @actions/core in the two entry files only', () => {
    for (const file of readdirSync(join(ROOT, 'action'))) {
      const imports = /from '@actions\/(core|github)'/.test(source(file));
      expect(imports, file).toBe(file === 'main.ts' || file === 'post.ts');
    }
  });
});
