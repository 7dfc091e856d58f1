import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/authenticate-token.ts';
import { BrokerError } from '../errors.ts';

export interface Operator {
  name: string;
}

/**
 * `createOperatorAuth` returns a check for the operator bearer credential of the broker API.
 * Credentials are compared as SHA-256 digests in constant time, so neither length nor prefix leaks.
 */
export function createOperatorAuth(operators: readonly { name: string; token: string }[]) {
  const digests = operators.map((o) => ({ name: o.name, digest: sha256(o.token) }));
  return function requireOperator(request: FastifyRequest): Operator {
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined) {
      const digest = sha256(presented);
      const match = digests.find((d) => timingSafeEqual(d.digest, digest));
      if (match) return { name: match.name };
    }
    throw new BrokerError('unauthorized', 'operator_credential_required', 'this route needs an operator credential (Authorization: Bearer …) listed under operators in the config');
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();
