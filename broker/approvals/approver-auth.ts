import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/authenticate-token.ts';
import { BrokerError, policyDenied } from '../errors.ts';
import { verifyIdToken, type VerifyDeps } from '../exchange/verify-id-token.ts';
import { createOperatorAuth } from '../http/operator-auth.ts';
import type { ApproverSpec } from './approval-config.ts';

/** Who is deciding: the approver entries a credential proves, and what to compare with the requester. */
export interface ApproverIdentity {
  /** Names of the configured approvers this credential authenticates. */
  names: string[];
  /** For the audit trail: `operator:NAME` or `oidc:ISSUER:SUB`. */
  principal: string;
  /** Names the person goes by (sub, email, login, approver names); a requester with any of them cannot approve itself. */
  identifiers: string[];
}

export interface ApproverAuthDeps {
  approvers: readonly ApproverSpec[];
  operators: readonly { name: string; token: string }[];
  verify: VerifyDeps;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * `createApproverAuth` returns the check for approval routes: `Authorization: Bearer` carries an
 * operator credential listed for an approver, or the OIDC ID token of an approver's issuer
 * (verified completely, as an exchange would). A genuine credential of nobody listed is a 403.
 */
export function createApproverAuth(deps: ApproverAuthDeps) {
  const requireOperator = createOperatorAuth(deps.operators);
  return async function authenticateApprover(request: FastifyRequest): Promise<ApproverIdentity> {
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined && JWT_SHAPE.test(presented)) return byIdToken(presented, deps);
    let operator: string;
    try {
      operator = requireOperator(request).name;
    } catch {
      throw new BrokerError(
        'unauthorized',
        'approver_credential_required',
        'approval routes need an approver credential (Authorization: Bearer …): an operator token of an approver, or an ID token from an approver’s issuer',
      );
    }
    const names = deps.approvers.filter((a) => 'operator' in a && a.operator === operator).map((a) => a.name);
    if (names.length === 0) throw policyDenied('not_an_approver', `operator ${operator} is not an approver; list {name: …, operator: ${operator}} under approvers`);
    return { names, principal: `operator:${operator}`, identifiers: [operator, ...names] };
  };
}

async function byIdToken(token: string, deps: ApproverAuthDeps): Promise<ApproverIdentity> {
  const { issuer, claims } = await verifyIdToken(token, deps.verify);
  const sub = claims['sub'] as string;
  const names = deps.approvers.filter((a) => 'issuer' in a && a.issuer.name === issuer.name && a.sub === sub).map((a) => a.name);
  if (names.length === 0) throw policyDenied('not_an_approver', `the ID token of issuer ${issuer.name} belongs to no configured approver; an operator must list its sub under approvers`);
  const extra = ['email', 'preferred_username'].map((c) => claims[c]).filter((v): v is string => typeof v === 'string' && v !== '');
  return { names, principal: `oidc:${issuer.name}:${sub}`, identifiers: [sub, ...extra, ...names] };
}
