// The Action's workflows follow the repository's habits (STYLE.md), and the claude-code-action
// example keeps the settings that stop the token from leaving through paths that bypass the proxy
// (reference/anthropic-api.md §5).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './runner.ts';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: unknown;
  jobs: Record<string, { permissions?: Record<string, string>; env?: Record<string, unknown>; steps: Step[] }>;
}

const dir = join(ROOT, '.github', 'workflows');
const ours = readdirSync(dir).filter((f) => f === 'check-dist.yml' || f.startsWith('example-'));
const load = (file: string) => ({ text: readFileSync(join(dir, file), 'utf8'), workflow: parse(readFileSync(join(dir, file), 'utf8')) as Workflow });

describe('Action workflows', () => {
  it('exist', () => {
    expect(ours.sort()).toEqual(['check-dist.yml', 'example-claude-code-action.yml', 'example-revocation-report.yml', 'example-sdk.yml']);
  });

  it.each(ours)('%s: no default permissions, SHA-pinned actions, no persisted credentials', (file) => {
    const { workflow } = load(file);
    expect(workflow.permissions).toEqual({});
    for (const job of Object.values(workflow.jobs)) {
      expect(job.permissions).toBeDefined();
      for (const step of job.steps) {
        if (step.uses === undefined || step.uses === './') continue;
        expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        if (step.uses.startsWith('actions/checkout@')) expect(step.with?.['persist-credentials']).toBe(false);
      }
    }
  });

  it.each(ours.filter((f) => f.startsWith('example-')))('%s runs only when started by hand', (file) => {
    expect(Object.keys(load(file).workflow.on)).toEqual(['workflow_dispatch']);
  });

  it('routes claude-code-action through the proxy without side doors', () => {
    const { workflow } = load('example-claude-code-action.yml');
    const job = workflow.jobs['claude']!;
    expect(job.permissions).toMatchObject({ 'id-token': 'write' });
    expect(job.env?.['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC']).toBe('1');
    const claude = job.steps.find((s) => s.uses?.startsWith('anthropics/claude-code-action@'))!;
    expect(claude.with).toMatchObject({
      anthropic_api_key: '${{ steps.skillgate.outputs.token }}',
      github_token: '${{ github.token }}',
      classify_inline_comments: 'false',
    });
    expect(claude.env).toMatchObject({ ANTHROPIC_BASE_URL: '${{ steps.skillgate.outputs.base-url }}', ANTHROPIC_AUTH_TOKEN: '${{ steps.skillgate.outputs.token }}' });
  });

  it('runs the SDK script the demo runs', () => {
    expect(load('example-sdk.yml').workflow.jobs['ask-claude']!.steps.some((s) => s.run === 'node examples/workflows/ask-claude.mjs')).toBe(true);
  });
});
