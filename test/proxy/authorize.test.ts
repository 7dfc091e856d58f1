// authorize: the token's own scopes AND its policy's current grant must both allow the operation;
// a policy edited or removed after mint narrows live tokens at once.
import { describe, expect, it } from 'vitest';
import type { GrantConfig, Scope } from '../../broker/config/schema.ts';
import { compileIssuers } from '../../broker/exchange/issuers.ts';
import { compilePolicies, type CompiledPolicy } from '../../broker/policy/compile-policies.ts';
import { authorize } from '../../broker/proxy/authorize.ts';
import type { Operation } from '../../broker/proxy/operation.ts';
import { ProxyError } from '../../broker/proxy/proxy-error.ts';
import type { TokenRecord } from '../../broker/store/store.ts';

/** A grant in config form. Scopes are typed by hand: GrantConfig infers them as never[] from the schema's mapped union. */
type GrantInput = Partial<Omit<GrantConfig, 'scopes'>> & { scopes: Scope[] };

/** Compiles a policy the way the broker does at boot. */
function policyOf(grant: GrantInput, name = 'docs-bot'): CompiledPolicy {
  const problems: string[] = [];
  const issuers = compileIssuers([], 'https://skillgate.test', problems);
  const [policy] = compilePolicies(
    [{ name, issuer: 'github', match: { repository_id: '74', repository_owner_id: '65' }, grant: { ttl: '30m', ...grant } as GrantConfig }],
    issuers,
    problems,
    [],
  );
  expect(problems).toEqual([]);
  return policy!;
}

function tokenOf(scopes: Scope[], policy = 'docs-bot'): TokenRecord {
  return {
    id: 'tok_1',
    tokenHash: 'h',
    policy,
    issuer: 'github',
    scopes,
    identity: { iss: 'https://token.actions.githubusercontent.com', sub: 'repo:octo/docs:ref:refs/heads/main' },
    issuedAt: 0,
    expiresAt: 1,
  };
}

function refusal(run: () => unknown): ProxyError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyError);
    return err as ProxyError;
  }
  throw new Error('expected a refusal');
}

describe('authorize allows', () => {
  it.each<{ name: string; operation: Operation; token: Scope[]; grant: Scope[]; effective: Scope[] }>([
    { name: 'an operation in both the token and the grant', operation: 'messages:create', token: ['messages:create'], grant: ['messages:create'], effective: ['messages:create'] },
    {
      name: 'with scopes cut to the intersection (token narrowed at mint)',
      operation: 'skills:read',
      token: ['skills:read'],
      grant: ['messages:create', 'skills:read', 'files:read'],
      effective: ['skills:read'],
    },
    {
      name: 'with scopes cut to the intersection (policy narrowed after mint)',
      operation: 'messages:create',
      token: ['messages:create', 'skills:write', 'files:read'],
      grant: ['messages:create', 'files:read'],
      effective: ['messages:create', 'files:read'],
    },
  ])('$name', ({ operation, token, grant, effective }) => {
    const policy = policyOf({ scopes: grant, models: ['claude-sonnet-4-*'], max_tokens: 1024 });
    const result = authorize(operation, tokenOf(token), policy);
    expect(result.scopes).toEqual(effective);
    expect(result).toMatchObject({ models: ['claude-sonnet-4-*'], maxTokens: 1024 });
  });

  it("returns the policy's current grant (an edit after mint applies) without touching the policy", () => {
    const policy = policyOf({ scopes: ['messages:create', 'files:read'], models: ['claude-haiku-*'] });
    const result = authorize('messages:create', tokenOf(['messages:create']), policy);
    expect(result.models).toEqual(['claude-haiku-*']);
    expect(policy.grant.scopes).toEqual(['messages:create', 'files:read']);
  });
});

describe('authorize refuses', () => {
  it.each<{ name: string; operation: Operation; token: Scope[]; policy: CompiledPolicy | undefined; reason: string; says: RegExp }>([
    {
      name: 'an operation the token was not minted with',
      operation: 'skills:write',
      token: ['messages:create'],
      policy: policyOf({ scopes: ['messages:create', 'skills:write'] }),
      reason: 'scope_not_granted',
      says: /issued without scope skills:write.*exchange a new token/,
    },
    {
      name: 'an operation the policy no longer grants',
      operation: 'skills:write',
      token: ['messages:create', 'skills:write'],
      policy: policyOf({ scopes: ['messages:create'] }),
      reason: 'scope_not_granted',
      says: /policy "docs-bot" no longer grants scope skills:write/,
    },
    {
      name: 'an operation neither grants',
      operation: 'batches:write',
      token: ['messages:create'],
      policy: policyOf({ scopes: ['messages:create'] }),
      reason: 'scope_not_granted',
      says: /after an operator adds it to policy "docs-bot"/,
    },
    {
      name: 'a token whose policy was removed',
      operation: 'messages:create',
      token: ['messages:create'],
      policy: undefined,
      reason: 'policy_removed',
      says: /policy "docs-bot", which issued this token, no longer exists/,
    },
    {
      name: 'a token looked up against another policy',
      operation: 'messages:create',
      token: ['messages:create'],
      policy: policyOf({ scopes: ['messages:create'] }, 'other-policy'),
      reason: 'policy_removed',
      says: /policy "docs-bot"/,
    },
  ])('$name → 403 $reason', ({ operation, token, policy, reason, says }) => {
    const err = refusal(() => authorize(operation, tokenOf(token), policy));
    expect({ status: err.status, type: err.type, reason: err.reason }).toEqual({ status: 403, type: 'permission_error', reason });
    expect(err.message).toMatch(says);
  });
});
