import type { CompiledPolicy } from '../policy/compile-policies.ts';
import type { Grant } from '../policy/grant.ts';
import type { TokenRecord } from '../store/store.ts';
import type { Operation } from './operation.ts';
import { permissionDenied } from './proxy-error.ts';

/**
 * `authorize` returns the grant a request runs under: the token's policy grant as it is now, with
 * scopes cut to those the token was also minted with. Both must allow the operation, so editing
 * or removing a policy narrows every live token at once, while a token minted with a narrower
 * `scope=` never widens when its policy does.
 * Throws 403 `policy_removed` (no such policy any more) or `scope_not_granted`.
 */
export function authorize(operation: Operation, token: TokenRecord, policy: CompiledPolicy | undefined): Grant {
  if (policy === undefined || policy.name !== token.policy) {
    throw permissionDenied(
      'policy_removed',
      `policy "${token.policy}", which issued this token, no longer exists; ask an operator to restore it or exchange a new token under a current policy`,
    );
  }
  const scopes = token.scopes.filter((s) => policy.grant.scopes.includes(s));
  if (!scopes.includes(operation)) {
    const why = token.scopes.includes(operation)
      ? `policy "${policy.name}" no longer grants scope ${operation} (grant.scopes: ${policy.grant.scopes.join(', ')}); ask an operator to add it to the policy`
      : `this token was issued without scope ${operation} (token scopes: ${token.scopes.join(', ')}); exchange a new token with that scope` +
        (policy.grant.scopes.includes(operation) ? '' : ` after an operator adds it to policy "${policy.name}"`);
    throw permissionDenied('scope_not_granted', `${operation} is not allowed: ${why}`);
  }
  return { ...policy.grant, scopes };
}
