import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredentialRefError, type AwsSecretRef } from './credential-ref.ts';
import { SecretSourceError, type SecretSource } from './credential-provider.ts';

// A refresh runs while requests wait on it (first fetch, past the stale window, after a 401), so a
// hung Secrets Manager must cost seconds, not the SDK's default of no timeout at all.
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_ATTEMPTS = 2;

/**
 * `createSecretsManagerSource` reads the upstream key from AWS Secrets Manager (AWSCURRENT), with
 * credentials from the SDK's default chain. A JSON SecretString is narrowed to `ref.jsonKey`.
 */
export function createSecretsManagerSource(ref: AwsSecretRef, env: NodeJS.ProcessEnv): SecretSource {
  const region = ref.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    throw new CredentialRefError(
      `aws-sm secret ${ref.secretId} has no region; add ?region=REGION to the reference or set AWS_REGION`,
    );
  }
  const description = `aws-sm secret ${ref.secretId} in ${region}`;
  // The AWS SDK is loaded on first use: brokers whose key lives in env: or file: never pay its memory.
  let client: SecretsManagerClient | undefined;

  return {
    description,
    async fetch() {
      const sdk = await import('@aws-sdk/client-secrets-manager');
      client ??= new sdk.SecretsManagerClient({
        region,
        maxAttempts: MAX_ATTEMPTS,
        requestHandler: {
          connectionTimeout: CONNECTION_TIMEOUT_MS,
          requestTimeout: REQUEST_TIMEOUT_MS,
          throwOnRequestTimeout: true,
        },
        ...(ref.endpoint !== undefined && { endpoint: ref.endpoint }),
      });
      let output: GetSecretValueCommandOutput;
      try {
        output = await client.send(new sdk.GetSecretValueCommand({ SecretId: ref.secretId }));
      } catch (err) {
        throw new SecretSourceError(explainFailure(err, description, sdk.SecretsManagerServiceException));
      }
      return pickKey(output, ref.jsonKey, description);
    },
    close() {
      client?.destroy();
    },
  };
}

/** Narrows a GetSecretValue answer to the key. Messages name fields, never their contents. */
function pickKey(output: GetSecretValueCommandOutput, jsonKey: string | undefined, description: string): string {
  const text = output.SecretString;
  if (text === undefined) {
    throw new SecretSourceError(
      output.SecretBinary === undefined
        ? `${description} has no SecretString; store the key as the secret's string value`
        : `${description} stores SecretBinary; store the key as a SecretString (plain, or JSON with ?key=)`,
    );
  }
  const json = parseObject(text);
  if (jsonKey === undefined) {
    if (json !== undefined) {
      throw new SecretSourceError(
        `${description} holds a JSON object; add &key=FIELD to the reference to pick the field that holds the key`,
      );
    }
    return nonEmptyKey(text, description);
  }
  if (json === undefined) {
    throw new SecretSourceError(`${description} is not a JSON object but key=${jsonKey} was asked for; store JSON or drop key=`);
  }
  const field = json[jsonKey];
  if (field === undefined) {
    const present = Object.keys(json).join(', ') || 'none';
    throw new SecretSourceError(`${description} has no JSON field ${jsonKey} (fields present: ${present}); fix key=`);
  }
  if (typeof field !== 'string') {
    throw new SecretSourceError(`${description} field ${jsonKey} is a ${field === null ? 'null' : typeof field}, not a string`);
  }
  return nonEmptyKey(field, `${description} field ${jsonKey}`);
}

// JSON.parse's own error quotes the text it choked on, which here is the secret: swallow it whole.
function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// Keys stored with `--secret-string file://key.txt` carry the file's newline; API keys hold no whitespace.
function nonEmptyKey(value: string, description: string): string {
  const key = value.trim();
  if (key === '') throw new SecretSourceError(`${description} is empty`);
  return key;
}

/**
 * Turns an SDK failure into an operator's message. Service errors carry AWS's own message (error
 * responses never hold secret values); anything else keeps only its name or network code, since a
 * deserialisation error may quote the response body, and that body held the secret.
 */
function explainFailure(err: unknown, description: string, ServiceException: abstract new (...args: never[]) => Error): string {
  if (err instanceof ServiceException) {
    switch (err.name) {
      case 'ResourceNotFoundException':
        return `${description} was not found; check the secret id, region and AWS account`;
      case 'AccessDeniedException':
      case 'UnrecognizedClientException':
      case 'InvalidSignatureException':
      case 'ExpiredTokenException':
        return `${description} cannot be read (${err.name}); give the broker's AWS identity secretsmanager:GetSecretValue on it`;
      case 'DecryptionFailure':
        return `${description} cannot be decrypted; give the broker's AWS identity kms:Decrypt on the secret's KMS key`;
      default:
        return `${description} cannot be read (${err.name}: ${err.message})`;
    }
  }
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (name === 'TimeoutError') return `Secrets Manager did not answer for ${description} in time; check network access to it`;
  if (name === 'CredentialsProviderError') {
    return `no AWS credentials for reading ${description}; configure the default chain (environment, profile, web identity or instance role)`;
  }
  if (typeof code === 'string') return `cannot reach Secrets Manager for ${description} (${code}); check network access and endpoint`;
  return `reading ${description} failed (${typeof name === 'string' ? name : 'unknown error'})`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
