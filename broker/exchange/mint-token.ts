import type { CompiledPolicy } from '../policy/compile-policies.ts';
import type { Grant } from '../policy/grant.ts';
import type { TokenIdentity, TokenRecord } from '../store/store.ts';
import type { IssuerSpec } from './issuers.ts';
import { generateId, generateToken, hashToken } from './token-format.ts';

/** Claims copied onto the token so every later call ties back to the run, commit and person. */
const BOUND_CLAIMS = [
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'repository_visibility',
  'run_id',
  'run_attempt',
  'run_number',
  'actor',
  'actor_id',
  'workflow_ref',
  'job_workflow_ref',
  'sha',
  'ref',
  'event_name',
  'environment',
  'email',
] as const satisfies readonly (keyof TokenIdentity)[];

export interface MintedToken {
  /** The secret, returned to the caller once and never stored. */
  token: string;
  record: TokenRecord;
}

/** `mintToken` creates a token for a verified identity under a policy's (possibly narrowed) grant. */
export function mintToken(claims: Record<string, unknown>, issuer: IssuerSpec, policy: CompiledPolicy, grant: Grant, now: number): MintedToken {
  const token = generateToken();
  const identity: TokenIdentity = { iss: issuer.issuer, sub: claims['sub'] as string };
  for (const name of BOUND_CLAIMS) {
    const value = claims[name];
    if (typeof value === 'string' && value !== '') identity[name] = value;
  }
  return {
    token,
    record: {
      id: generateId('tok'),
      tokenHash: hashToken(token),
      policy: policy.name,
      issuer: issuer.name,
      scopes: grant.scopes,
      identity,
      issuedAt: now,
      expiresAt: now + grant.ttlSec * 1000,
    },
  };
}
