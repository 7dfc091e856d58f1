/** Where the upstream key lives, as written in config. Never the key itself. */
export type CredentialRef = EnvCredentialRef | FileCredentialRef | AwsSecretRef;

export interface EnvCredentialRef {
  kind: 'env';
  name: string;
}

export interface FileCredentialRef {
  kind: 'file';
  path: string;
}

export interface AwsSecretRef {
  kind: 'aws-sm';
  /** A secret name (may contain `/`) or a full ARN. */
  secretId: string;
  /** From `region=` or the ARN; when absent the provider falls back to AWS_REGION. */
  region?: string;
  /** The field to pick when the SecretString is a JSON object. */
  jsonKey?: string;
  /** Overrides the Secrets Manager endpoint; meant for tests against moto. */
  endpoint?: string;
}

/** A credential reference that cannot work as written; thrown at boot, the message names the fix. */
export class CredentialRefError extends Error {
  override readonly name = 'CredentialRefError';
  readonly code = 'invalid_credential_ref';
}

const FORMS = 'env:NAME, file:PATH or aws-sm://SECRET_ID?region=REGION[&key=JSON_KEY]';
const AWS_PREFIX = 'aws-sm://';
const AWS_PARAMS = new Set(['region', 'key', 'endpoint']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const REGION = /^[a-z]{2,}(-[a-z]+)+-\d+$/;

/**
 * `parseCredentialRef` reads `env:NAME`, `file:PATH` or `aws-sm://<secret id or ARN>?region=…&key=…`.
 * Its errors name the fix and never echo the reference whole: a misconfigured value is often the
 * literal key pasted where a reference belongs.
 */
export function parseCredentialRef(ref: string): CredentialRef {
  if (ref.startsWith('env:')) {
    const name = ref.slice('env:'.length);
    if (!ENV_NAME.test(name)) {
      throw new CredentialRefError('env: must be followed by an environment variable name, e.g. env:ANTHROPIC_API_KEY');
    }
    return { kind: 'env', name };
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice('file:'.length);
    if (path.trim() === '') throw new CredentialRefError('file: must be followed by a path, e.g. file:/run/secrets/anthropic');
    return { kind: 'file', path };
  }
  if (ref.startsWith(AWS_PREFIX)) return parseAwsSecretRef(ref.slice(AWS_PREFIX.length));
  throw new CredentialRefError(
    `the upstream credential must be a reference (${FORMS}), not a literal key; store the key in a secret store and reference it`,
  );
}

function parseAwsSecretRef(rest: string): AwsSecretRef {
  const queryAt = rest.indexOf('?');
  const secretId = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1));
  const problems: string[] = [];
  const one = (name: string): string | undefined => {
    const values = params.getAll(name);
    if (values.length > 1) problems.push(`${name}= is given ${values.length} times; give it once`);
    return values[0];
  };

  for (const name of new Set(params.keys())) {
    if (!AWS_PARAMS.has(name)) problems.push(`unknown parameter ${name}=; allowed are region=, key= and endpoint=`);
  }

  let region = one('region');
  if (region !== undefined && !REGION.test(region)) problems.push(`region=${region} is not an AWS region name like us-east-1`);
  const arnRegion = SECRET_ARN.exec(secretId)?.[1];
  if (secretId.startsWith('arn:')) {
    if (arnRegion === undefined) {
      problems.push('the secret ARN is malformed; expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME');
    } else if (region !== undefined && region !== arnRegion) {
      problems.push(`region=${region} contradicts the ARN's region ${arnRegion}; drop region= or fix it`);
    }
    region ??= arnRegion;
  } else if (!SECRET_NAME.test(secretId)) {
    problems.push(
      secretId === ''
        ? 'aws-sm:// must be followed by a secret name or ARN'
        : 'the secret name may only hold letters, digits and / _ + = . @ - (at most 512 characters)',
    );
  }

  const jsonKey = one('key');
  if (jsonKey === '') problems.push('key= is empty; name the JSON field that holds the key or drop key=');

  const endpoint = one('endpoint');
  if (endpoint !== undefined && !isHttpUrl(endpoint)) problems.push('endpoint= must be an http:// or https:// URL');

  if (problems.length > 0) {
    throw new CredentialRefError(`invalid aws-sm:// credential reference: ${problems.join('; ')}`);
  }
  return {
    kind: 'aws-sm',
    secretId,
    ...(region !== undefined && { region }),
    ...(jsonKey !== undefined && { jsonKey }),
    ...(endpoint !== undefined && { endpoint }),
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
