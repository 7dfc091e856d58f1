import { describe, expect, it } from 'vitest';
import { createCredentialProvider, CredentialRefError, parseCredentialRef } from '../../broker/credentials/index.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/anthropic-AbCdEf';

describe('parseCredentialRef', () => {
  it.each([
    ['env:ANTHROPIC_API_KEY', { kind: 'env', name: 'ANTHROPIC_API_KEY' }],
    ['file:/run/secrets/anthropic', { kind: 'file', path: '/run/secrets/anthropic' }],
    ['file:secrets/key.txt', { kind: 'file', path: 'secrets/key.txt' }],
    ['aws-sm://anthropic?region=us-east-1', { kind: 'aws-sm', secretId: 'anthropic', region: 'us-east-1' }],
    [
      'aws-sm://prod/anthropic?region=us-east-1&key=api_key',
      { kind: 'aws-sm', secretId: 'prod/anthropic', region: 'us-east-1', jsonKey: 'api_key' },
    ],
    [
      'aws-sm://prod/anthropic?region=us-gov-west-1&endpoint=http://127.0.0.1:5000',
      { kind: 'aws-sm', secretId: 'prod/anthropic', region: 'us-gov-west-1', endpoint: 'http://127.0.0.1:5000' },
    ],
    ['aws-sm://team_a/key+1=x.y@z-w', { kind: 'aws-sm', secretId: 'team_a/key+1=x.y@z-w' }],
    [`aws-sm://${ARN}`, { kind: 'aws-sm', secretId: ARN, region: 'eu-west-1' }],
    [`aws-sm://${ARN}?region=eu-west-1&key=k`, { kind: 'aws-sm', secretId: ARN, region: 'eu-west-1', jsonKey: 'k' }],
  ])('reads %s', (ref, expected) => {
    expect(parseCredentialRef(ref)).toStrictEqual(expected);
  });

  it.each([
    ['a literal key', 'sk-ant-api03-literal-key-pasted-by-mistake', /must be a reference .*not a literal key/],
    ['an empty string', '', /must be a reference/],
    ['an unknown scheme', 'vault://secret/anthropic', /env:NAME, file:PATH or aws-sm:\/\//],
    ['env without a name', 'env:', /env:ANTHROPIC_API_KEY/],
    ['env with a bad name', 'env:MY-KEY', /environment variable name/],
    ['file without a path', 'file:', /file:\/run\/secrets/],
    ['aws-sm without an id', 'aws-sm://?region=us-east-1', /secret name or ARN/],
    ['aws-sm with a bad character', 'aws-sm://prod anthropic?region=us-east-1', /may only hold letters/],
    ['aws-sm with a bad region', 'aws-sm://prod/anthropic?region=virginia', /region=virginia is not an AWS region/],
    ['aws-sm with an unknown parameter', 'aws-sm://x?region=us-east-1&version=2', /unknown parameter version=/],
    ['aws-sm with a repeated parameter', 'aws-sm://x?region=us-east-1&region=us-west-2', /region= is given 2 times/],
    ['aws-sm with an empty key', 'aws-sm://x?region=us-east-1&key=', /key= is empty/],
    ['aws-sm with a non-http endpoint', 'aws-sm://x?region=us-east-1&endpoint=file:///etc', /endpoint= must be an http/],
    ['a malformed ARN', 'aws-sm://arn:aws:secretsmanager:us-east-1:123:secret:x', /ARN is malformed/],
    ['an ARN contradicting region=', `aws-sm://${ARN}?region=us-east-1`, /contradicts the ARN's region eu-west-1/],
  ])('refuses %s with a message naming the fix', (_case, ref, message) => {
    const err = catchError(() => parseCredentialRef(ref));
    expect(err).toBeInstanceOf(CredentialRefError);
    expect(err).toMatchObject({ code: 'invalid_credential_ref' });
    expect(err.message).toMatch(message);
  });

  it('collects every problem of an aws-sm reference into one message', () => {
    const err = catchError(() => parseCredentialRef('aws-sm://x?region=mars&key=&extra=1'));
    expect(err.message).toMatch(/unknown parameter extra=.*region=mars.*key= is empty/);
  });

  it('never echoes a literal key that was pasted where a reference belongs', () => {
    const key = 'sk-ant-api03-pasted-into-config-0123456789';
    for (const ref of [key, `env:${key}`, `aws-sm://${key}?region=nowhere&key=`]) {
      const err = catchError(() => parseCredentialRef(ref));
      expect(`${err.message}\n${err.stack ?? ''}`).not.toContain(key);
    }
  });
});

describe('createCredentialProvider', () => {
  it('refuses an aws-sm reference without any region', () => {
    const err = catchError(() => createCredentialProvider('aws-sm://prod/anthropic', { env: {} }));
    expect(err).toBeInstanceOf(CredentialRefError);
    expect(err.message).toMatch(/add \?region=REGION to the reference or set AWS_REGION/);
  });

  it('takes the region from AWS_REGION when the reference has none', () => {
    const provider = createCredentialProvider('aws-sm://prod/anthropic', { env: { AWS_REGION: 'us-east-1' } });
    provider.close();
  });

  it.each([
    [{ refreshIntervalMs: 0 }],
    [{ refreshIntervalMs: 60_000, staleWindowMs: 30_000 }],
  ])('refuses timings %o that would let a value go stale before its refresh', (timings) => {
    expect(() => createCredentialProvider('env:X', timings)).toThrow(/staleWindowMs at least as long/);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error('expected an Error instance');
  }
  throw new Error('expected a throw');
}
