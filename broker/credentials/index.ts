export { createCredentialProvider } from './create-credential-provider.ts';
export { CredentialRefError, parseCredentialRef } from './credential-ref.ts';
export type { AwsSecretRef, CredentialRef, EnvCredentialRef, FileCredentialRef } from './credential-ref.ts';
export { CredentialUnavailableError } from './credential-provider.ts';
export type { CredentialProvider, CredentialProviderOptions } from './credential-provider.ts';
