// Approval config at load: approvers, the webhook and every policy's approval rules are checked
// together, and each problem names the field and the fix.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type Config } from '../../broker/config/load-config.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-approval-config-'));
  writeFileSync(join(dir, 'webhook.txt'), 'https://hooks.slack.example/services/T0/B0/secretpath\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENV = { OPS_TOKEN: 'ops-secret', HOOK: 'https://hooks.slack.example/services/T1/B1/fromenv' };

function yaml({ approvers = '', approvals = '', approval = '{for: [skills:write], approvers: [security]}', issuers = '' } = {}): string {
  return `audience: https://skillgate.test
operators: [{name: ops, token: "env:OPS_TOKEN"}]
issuers: [{name: okta, kind: oidc, issuer: "https://acme.okta.example"}${issuers}]
${approvers === '' ? 'approvers: [{name: security, operator: ops}, {name: alice, issuer: okta, sub: "00u-alice"}]' : approvers}
${approvals}
policies:
  - name: docs-bot
    issuer: github
    match: {repository_owner_id: "65", repository_id: "74"}
    grant:
      scopes: [messages:create, skills:write]
      ttl: 30m
      approval: ${approval}
`;
}

const load = (text: string): Config => parseConfig(text, { source: 'skillgate.yaml', baseDir: dir, env: ENV });

function problems(text: string): string[] {
  try {
    load(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('the config loaded');
}

describe('approval config', () => {
  it('compiles approvers and applies the defaults (uses 1, valid_for 1h, wait 2m, refuse, pending_timeout 1h)', () => {
    const config = load(yaml());
    expect(config.policies[0]?.grant.approval).toEqual({ for: ['skills:write'], approvers: ['security'], mode: 'refuse', waitSec: 120, uses: 1, validForSec: 3600 });
    expect(config.approvals.pendingTimeoutSec).toBe(3600);
    expect(config.approvals.webhookUrl).toBeUndefined();
    expect(config.approvals.approvers).toEqual([
      { name: 'security', operator: 'ops' },
      { name: 'alice', issuer: expect.objectContaining({ name: 'okta', issuer: 'https://acme.okta.example' }), sub: '00u-alice' },
    ]);
  });

  it('reads uses, valid_for, wait, mode, the webhook (a secret reference) and pending_timeout', () => {
    const config = load(
      yaml({
        approval: '{for: [tool:bash, "model:claude-opus-*", "max_tokens>8192", skill:pdf], approvers: [security, alice], mode: hold, wait: 30s, uses: 3, valid_for: 10m}',
        approvals: 'approvals: {webhook_url: "env:HOOK", pending_timeout: 15m}',
      }),
    );
    expect(config.policies[0]?.grant.approval).toMatchObject({ mode: 'hold', waitSec: 30, uses: 3, validForSec: 600 });
    expect(config.approvals).toMatchObject({ webhookUrl: ENV.HOOK, pendingTimeoutSec: 900 });
    expect(load(yaml({ approvals: 'approvals: {webhook_url: "file:webhook.txt"}' })).approvals.webhookUrl).toBe('https://hooks.slack.example/services/T0/B0/secretpath');
  });

  it.each([
    ['an approver name nobody configured', yaml({ approval: '{for: [skills:write], approvers: [secruity]}' }), /grant\.approval\.approvers\[0\]: no approver named "secruity" \(configured: security, alice\); add \{name: secruity/],
    ['approvers without any list', yaml({ approvers: 'approvers: []' }), /no approver named "security" \(no approvers are configured\)/],
    ['an unknown approval rule', yaml({ approval: '{for: [skills:writ], approvers: [security]}' }), /grant\.approval\.for\[0\]: "skills:writ" is not a scope/],
    ['an unknown tool family', yaml({ approval: '{for: [tool:shell], approvers: [security]}' }), /grant\.approval\.for\[0\]: "tool:shell" names no tool family/],
    ['an approver with both an operator and an IdP identity', yaml({ approvers: 'approvers: [{name: security, operator: ops, issuer: okta, sub: x}]' }), /approvers\[0\] \(security\): give exactly one of operator .* or issuer and sub/],
    ['an approver with neither', yaml({ approvers: 'approvers: [{name: security}]' }), /give exactly one of operator/],
    ['an IdP approver without sub', yaml({ approvers: 'approvers: [{name: security, issuer: okta}]' }), /needs both issuer .* and sub/],
    ['an unknown operator', yaml({ approvers: 'approvers: [{name: security, operator: opz}]' }), /approvers\[0\] \(security\)\.operator: no operator named "opz"; add it under operators or use one of: ops/],
    ['an unknown issuer', yaml({ approvers: 'approvers: [{name: security, issuer: okra, sub: x}]' }), /\.issuer: no issuer named "okra"; known: okta, github/],
    ['a GitHub Actions issuer (CI would approve itself)', yaml({ approvers: 'approvers: [{name: security, issuer: github, sub: "repo:o/r:ref:refs/heads/main"}]' }), /issues GitHub Actions tokens; approvers authenticate with a person/],
    ['a duplicate approver name', yaml({ approvers: 'approvers: [{name: security, operator: ops}, {name: security, operator: ops}]' }), /approver name "security" is used twice/],
    ['a plain-http webhook off loopback', yaml({ approvals: 'approvals: {webhook_url: "http://hooks.example.com/x"}' }), /approvals\.webhook_url: must be an https URL/],
    ['an unset webhook variable', yaml({ approvals: 'approvals: {webhook_url: "env:NOPE"}' }), /approvals\.webhook_url: /],
  ])('refuses %s, naming the field and the fix', (_name, text, message) => {
    expect(problems(text).join('\n')).toMatch(message);
  });

  it('never quotes the webhook URL in a problem (it can hold a secret)', () => {
    const text = problems(yaml({ approvals: 'approvals: {webhook_url: "http://hooks.example.com/services/SECRETPATH"}' })).join('\n');
    expect(text).not.toContain('SECRETPATH');
  });

  it('reports every approval problem of a config at once', () => {
    const list = problems(yaml({ approval: '{for: [tool:shell, nope], approvers: [x, y]}' }));
    expect(list.filter((p) => /grant\.approval/.test(p))).toHaveLength(4);
  });
});
