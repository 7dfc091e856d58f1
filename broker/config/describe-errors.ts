import type { ErrorObject } from 'ajv';

/**
 * `describeSchemaErrors` turns ajv's errors into one line each that names the field (in the
 * config's own notation, `policies[0].grant.ttl`) and the fix. Values are never echoed: a field
 * meant for `env:NAME` may hold a pasted secret.
 */
export function describeSchemaErrors(errors: readonly ErrorObject[]): string[] {
  const unionPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  const lines = new Set<string>();
  for (const e of errors) {
    // Errors from inside a union's branches are noise; the union's own line says what is allowed.
    const insideUnion = unionPaths.some((p) => e.keyword !== 'anyOf' && (e.instancePath === p || e.instancePath.startsWith(`${p}/`)));
    if (insideUnion) continue;
    lines.add(`${fieldName(e.instancePath)}: ${describe(e)}`);
  }
  return [...lines];
}

function describe(e: ErrorObject): string {
  const schema = e.parentSchema as { description?: string; properties?: Record<string, unknown>; anyOf?: { const?: unknown }[] } | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(schema?.properties ?? {}).join(', ');
      return `unknown key "${String(e.params['additionalProperty'])}"; check the spelling (allowed here: ${allowed})`;
    }
    case 'required':
      return `missing required key "${String(e.params['missingProperty'])}"`;
    case 'type': {
      const quoteHint = e.params['type'] === 'string' && typeof e.data === 'number' ? QUOTE_HINT : '';
      return `must be ${article(String(e.params['type']))}${quoteHint}`;
    }
    case 'anyOf': {
      const consts = schema?.anyOf?.map((s) => s.const);
      if (consts && consts.every((c) => c !== undefined)) return `must be one of: ${consts.join(', ')}`;
      // A claim matcher is a union, so an unquoted id (`repository_id: 74`) lands here, not under 'type'.
      const numeric = typeof e.data === 'number' || (Array.isArray(e.data) && e.data.some((v) => typeof v === 'number'));
      const shape = `has the wrong shape${schema?.description ? `: ${schema.description}` : ''}`;
      return numeric ? `${shape.replace(/\.$/, '')}${QUOTE_HINT}` : shape;
    }
    case 'pattern':
      return `has the wrong form${schema?.description ? `: ${schema.description}` : ` (expected ${String(e.params['pattern'])})`}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function fieldName(instancePath: string): string {
  if (instancePath === '') return '(top level)';
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

const QUOTE_HINT = '; quote it ("74"): ids and claims compare as strings';
const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);
