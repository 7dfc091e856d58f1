import type { Config } from '../config/load-config.ts';
import { formatDuration } from '../config/duration.ts';
import { BrokerError } from '../errors.ts';
import { GITHUB_ISSUER } from '../exchange/issuers.ts';
import { evaluatePolicy, matchPolicy } from './match-policy.ts';

/** `formatPolicies` renders the compiled policies for `skillgate policy check`. */
export function formatPolicies(config: Config): string {
  const lines = [`${config.source}: ok — ${config.policies.length} polic${config.policies.length === 1 ? 'y' : 'ies'}, audience ${config.audience}`];
  for (const p of config.policies) {
    lines.push('', `policy ${p.name} (issuer ${p.issuer.name}: ${p.issuer.issuer})`);
    for (const m of [...p.identity, ...p.conditions]) lines.push(`  ${p.identity.includes(m) ? 'identity ' : 'match    '} ${m.claim} ${m.describe}`);
    const g = p.grant;
    lines.push(`  grant     scopes ${g.scopes.join(' ')}; ttl ${formatDuration(g.ttlSec)}`);
    if (g.models) lines.push(`            models ${g.models.join(', ')}`);
    if (g.skills) lines.push(`            skills ${g.skills.join(', ')}`);
    if (g.tools) lines.push(`            tools ${Object.entries(g.tools).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    if (g.maxTokens !== undefined) lines.push(`            max_tokens ${g.maxTokens}`);
  }
  return lines.join('\n');
}

/**
 * `explainPolicies` answers `skillgate policy explain`: for a set of claims, which policy
 * matches, and for every policy of that issuer where it stops matching.
 */
export function explainPolicies(config: Config, claims: Record<string, unknown>): { text: string; matched: boolean } {
  const iss = typeof claims['iss'] === 'string' ? claims['iss'] : GITHUB_ISSUER;
  const issuer = config.issuers.find((s) => s.issuer === iss);
  if (!issuer) return { text: `issuer ${iss} is not trusted by this config (trusted: ${config.issuers.map((s) => s.issuer).join(', ')})`, matched: false };
  const lines: string[] = [];
  for (const p of config.policies.filter((p) => p.issuer === issuer)) {
    const miss = evaluatePolicy(p, claims);
    lines.push(miss ? `✗ ${p.name}: ${miss.claim} ${miss.problem === 'missing' ? 'is absent' : `${JSON.stringify(claims[miss.claim])} does not satisfy ${[...p.identity, ...p.conditions].find((m) => m.claim === miss.claim)?.describe ?? ''}`}` : `✓ ${p.name}: matches`);
  }
  try {
    const policy = matchPolicy(claims, issuer, config.policies);
    lines.push('', `result: policy ${policy.name} grants ${policy.grant.scopes.join(' ')} for ${formatDuration(policy.grant.ttlSec)}`);
    return { text: lines.join('\n'), matched: true };
  } catch (err) {
    if (!(err instanceof BrokerError)) throw err;
    lines.push('', `result: denied (${err.reason}): ${err.message}`);
    return { text: lines.join('\n'), matched: false };
  }
}
