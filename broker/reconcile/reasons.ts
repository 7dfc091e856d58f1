/**
 * Why the reconciler revokes a token, one code per check, in the order that decides a token's
 * primary reason when several apply: the most definitive first (it cannot be used at all), the
 * softest (it merely went unused) last. The report, its schema and the audit trail use these codes.
 */
export const TOKEN_REASONS = {
  expired: 'the token had passed its expiry; closed out so no open token lingers in the store',
  repository_deleted: 'the repository the token was minted for no longer exists (by repository_id)',
  repository_transferred: 'the repository now belongs to another owner (its owner id changed)',
  repository_made_public: 'the repository was private or internal when the token was minted and is public now',
  repository_archived: 'the repository was archived',
  actor_offboarded: "the workflow's actor is no longer a member of any configured GitHub organization",
  idp_account_gone: "the person's account is gone or deactivated in the identity provider's directory",
  policy_removed: "the token's policy is no longer in the config",
  policy_no_longer_matches: "the policy no longer admits the identity the token was minted for",
  policy_narrowed: 'the token holds scopes its policy no longer grants',
  stale: 'not used through the proxy for stale_after',
} as const;
export type TokenReason = keyof typeof TOKEN_REASONS;
export const TOKEN_REASON_CODES = Object.keys(TOKEN_REASONS) as TokenReason[];

/** Why a long-lived Anthropic API key is flagged (and, with `enforce: true`, set inactive). */
export const KEY_REASONS = {
  key_creator_offboarded: 'the user who created or owns the key is no longer a member of the Anthropic organization',
  key_unused: 'the key has no usage for stale_after',
  key_past_expiry: 'the key is still active after its expires_at',
} as const;
export type KeyReason = keyof typeof KEY_REASONS;
export const KEY_REASON_CODES = Object.keys(KEY_REASONS) as KeyReason[];

/** The outside systems a run consults; a failing or implausible one revokes nothing. */
export const SOURCES = {
  github_members: 'GitHub organization membership',
  github_repositories: 'GitHub repositories by id',
  idp: 'identity provider directory',
  admin_api: 'Anthropic Admin API',
} as const;
export type SourceName = keyof typeof SOURCES;
