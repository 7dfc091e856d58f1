import Type, { type Static } from 'typebox';

/**
 * The `reconciler:` section of the config file. Kept beside the reconciler and spliced into
 * `ConfigSchema`, so the published config schema documents it like every other section.
 */
const strict = { additionalProperties: false } as const;
const DURATION = '^[1-9][0-9]*(s|m|h|d)$';
const Duration = (description: string) => Type.String({ pattern: DURATION, description: `${description} Written as a number and a unit: 90s, 30m, 1h, 7d.` });
const CREDENTIAL = '^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|aws-sm://.+)$';
const Credential = (description: string) =>
  Type.String({ pattern: CREDENTIAL, description: `${description} A reference, never the value: env:NAME, file:PATH or aws-sm://SECRET_ID?region=…&key=JSON_FIELD.` });
const SECRET_OR_URL = '^(https?://.+|env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$';

export const ReconcilerSchema = Type.Object(
  {
    schedule: Type.Optional(Type.String({ minLength: 1, description: 'node-cron expression for `skillgate serve` (e.g. "*/15 * * * *"). Without it the reconciler runs only from `skillgate reconcile --once`.' })),
    timezone: Type.Optional(Type.String({ minLength: 1, description: 'IANA time zone the schedule is read in (default: the server\u2019s).' })),
    stale_after: Type.Optional(Duration('Revoke a token not used through the proxy for this long (default 7d).')),
    safety: Type.Optional(
      Type.Object(
        {
          max_share: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'A run that would revoke the tokens of more than this share of the principals holding active tokens revokes nothing and reports why (default 0.25). Also bounds API key deactivations.' })),
          floor: Type.Optional(Type.Integer({ minimum: 0, description: 'Runs revoking at most this many principals never trip the brake, so small teams can offboard one person (default 3).' })),
        },
        strict,
      ),
    ),
    github: Type.Optional(
      Type.Object(
        {
          token: Credential('GitHub token that can list the orgs\u2019 members and read their repositories (read:org, repo metadata).'),
          orgs: Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9-]*$' }), { minItems: 1, uniqueItems: true, description: 'Organizations whose members may hold tokens: an actor in none of them is offboarded.' }),
          api_url: Type.Optional(Type.String({ description: 'REST API root (default https://api.github.com; GHES: https://HOST/api/v3).' })),
          exempt_actors: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Logins never treated as offboarded (app and bot actors ending in [bot] always are exempt).' })),
          repositories: Type.Optional(Type.Boolean({ description: 'Check the repositories tokens were minted for: deleted, transferred, archived, made public (default true).' })),
        },
        strict,
      ),
    ),
    idp: Type.Optional(
      Type.Object(
        {
          scim_url: Type.Optional(Type.String({ description: 'SCIM 2.0 base URL; /Users is paged through. https only (http for 127.0.0.1).' })),
          scim_token: Type.Optional(Credential('Bearer token for the SCIM endpoint.')),
          file: Type.Optional(Type.String({ minLength: 1, description: 'A directory export instead of SCIM: JSON (SCIM ListResponse, array of users, or array of names) or one name per line. Relative to the config file.' })),
          claim: Type.Optional(Type.Union([Type.Literal('email'), Type.Literal('sub')], { description: 'Which token claim names the person in the directory (default email).' })),
          issuers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Issuers (kind: oidc) whose tokens are checked (default: every oidc issuer).' })),
        },
        strict,
      ),
    ),
    anthropic_keys: Type.Optional(
      Type.Object(
        {
          admin_key: Credential('Anthropic Admin API key (sk-ant-admin01-…).'),
          base_url: Type.Optional(Type.String({ description: 'Admin API origin (default https://api.anthropic.com).' })),
          stale_after: Type.Optional(Duration('Flag an active key with no usage for this long (default 30d).')),
          enforce: Type.Optional(Type.Boolean({ description: 'Set flagged keys inactive (reversible). Default false: flag only.' })),
          exempt: Type.Optional(Type.Array(Type.String({ pattern: '^apikey_' }), { description: 'Key ids never flagged for deactivation.' })),
        },
        strict,
      ),
    ),
    scope_drift: Type.Optional(
      Type.Object({ window: Type.Optional(Duration('How far back granted-vs-used is measured from the audit trail (default 30d).')) }, strict),
    ),
    reports: Type.Optional(
      Type.Object(
        {
          directory: Type.Optional(Type.String({ minLength: 1, description: 'Folder each report is written to as ID.json, ID.md, ID.html and latest.* (relative to the config file).' })),
          webhook_url: Type.Optional(Type.String({ pattern: SECRET_OR_URL, description: 'POST {text, report} here after each run; a URL or env:NAME / file:PATH holding it.' })),
          github_issue: Type.Optional(
            Type.Object(
              {
                repository: Type.String({ pattern: '^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$', description: 'owner/name the issue is filed in (uses github.token).' }),
                title: Type.Optional(Type.String({ minLength: 1, description: 'Issue title (default "skillgate revocation reports").' })),
                mode: Type.Optional(Type.Union([Type.Literal('append'), Type.Literal('create')], { description: 'append: comment on the open issue with this title, opening it once; create: a new issue per run. Default append.' })),
                labels: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
              },
              strict,
            ),
          ),
        },
        strict,
      ),
    ),
  },
  { ...strict, description: 'Revokes what should no longer work and writes revocation reports (`skillgate reconcile --once`, or on schedule in `skillgate serve`).' },
);
export type ReconcilerFile = Static<typeof ReconcilerSchema>;
