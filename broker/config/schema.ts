import Type, { type Static } from 'typebox';
import { ReconcilerSchema } from '../reconcile/reconcile-schema.ts';

/**
 * The config file's schema: one source for boot-time validation (ajv, every problem at once),
 * the TypeScript types, and the published JSON Schema (`schema/skillgate.config.schema.json`)
 * that editors use for completion. Every object refuses unknown keys.
 */
const strict = { additionalProperties: false } as const;

export const DURATION_PATTERN = '^[1-9][0-9]*(s|m|h|d)$';
const Duration = (description: string) =>
  Type.String({ pattern: DURATION_PATTERN, description: `${description} Written as a number and a unit: 90s, 30m, 1h, 1d.` });

export const SECRET_REF_PATTERN = '^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$';
const SecretRef = (description: string) =>
  Type.String({ pattern: SECRET_REF_PATTERN, description: `${description} A reference, never the value: env:NAME or file:PATH.` });

/** Operation scopes a grant can hold; the proxy classifies every request into one of these. */
export const SCOPES = [
  'messages:create',
  'models:read',
  'skills:read',
  'skills:write',
  'skills:delete',
  'files:read',
  'files:write',
  'batches:read',
  'batches:write',
  'audit:read',
] as const;
export type Scope = (typeof SCOPES)[number];

export const Matcher = Type.Union(
  [
    Type.String({ description: 'Exact value the claim must equal.' }),
    Type.Array(Type.String(), { minItems: 1, description: 'The claim must equal one of these values.' }),
    Type.Object(
      { pattern: Type.String({ minLength: 1, description: 'Regular expression, anchored as ^(…)$ at load.' }) },
      strict,
    ),
  ],
  { description: 'Exact value, list of exact values, or {pattern: regex} (always anchored).' },
);
export type Matcher = Static<typeof Matcher>;

const ToolRule = Type.Union([Type.Literal('allow'), Type.Literal('deny')]);

const BudgetCounters = {
  requests: Type.Optional(Type.Integer({ minimum: 1, description: 'Model calls (messages, count_tokens, batch items).' })),
  input_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  output_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Held at max_tokens while a request runs, then settled to the real usage.' })),
};

const Grant = Type.Object(
  {
    // Unsafe keeps the literal union in the static type (map() widens it to never[]).
    scopes: Type.Array(Type.Unsafe<Scope>(Type.Union(SCOPES.map((s) => Type.Literal(s)))), {
      minItems: 1,
      uniqueItems: true,
      description: 'Operations the token may perform; a request may narrow this list with scope=.',
    }),
    models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Model ids or globs (claude-sonnet-4-*).' })),
    skills: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Skill ids allowed in container.skills; pin a version with id@version.' }),
    ),
    tools: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z_]+$' }), ToolRule, {
        description: 'Per tool family: code_execution, bash, text_editor, computer, web_search, web_fetch, memory, mcp, custom.',
      }),
    ),
    mcp_servers: Type.Optional(Type.Array(Type.String(), { description: 'MCP server URLs the request may name.' })),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Upper bound for max_tokens in a request.' })),
    ttl: Duration('Lifetime of a minted token (a request may ask for less, never more).'),
    budget: Type.Optional(
      Type.Object(
        {
          ...BudgetCounters,
          window: Type.Optional(Duration('Rolling window of the per-policy budget (default 1h).')),
          per_token: Type.Optional(
            Type.Object(BudgetCounters, { ...strict, description: "Overrides the flat limits for each token's whole life (it never refills)." }),
          ),
          per_policy: Type.Optional(
            Type.Object(BudgetCounters, { ...strict, description: 'Overrides the flat limits for all tokens of the policy together, per window.' }),
          ),
        },
        {
          ...strict,
          description:
            'Limits on model calls. The flat counters apply both to each token (its whole life) and to the policy (all its tokens per rolling window); per_token / per_policy override either.',
        },
      ),
    ),
    approval: Type.Optional(
      Type.Object(
        {
          for: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            description: 'What needs a human approval: a scope (skills:write), tool:FAMILY (tool:bash), skill:ID (skill:pdf), model:GLOB (model:claude-opus-*) or max_tokens>N.',
          }),
          approvers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Names of entries in the top-level approvers list.' }),
          mode: Type.Optional(
            Type.Union([Type.Literal('hold'), Type.Literal('refuse')], { description: 'hold: keep the request open up to wait; refuse: answer 403 approval_required at once. Default refuse.' }),
          ),
          wait: Type.Optional(Duration('How long a held request waits for an approver (default 2m).')),
          uses: Type.Optional(Type.Integer({ minimum: 1, description: 'How many identical requests one approval lets through (default 1).' })),
          valid_for: Type.Optional(Duration('How long an approval stays usable after it is given (default 1h).')),
        },
        strict,
      ),
    ),
    masking: Type.Optional(
      Type.Object(
        {
          patterns: Type.Optional(Type.Array(Type.Object({ name: Type.String(), regex: Type.String() }, strict))),
          values: Type.Optional(Type.Array(SecretRef('A secret value to mask in responses.'))),
        },
        strict,
      ),
    ),
  },
  { ...strict, description: 'What a token minted under this policy may do. The policy decides; a request only narrows.' },
);
export type GrantConfig = Static<typeof Grant>;

const Policy = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'Stable name, recorded on every token and event.' }),
    description: Type.Optional(Type.String()),
    issuer: Type.String({ minLength: 1, description: 'Name of an entry in issuers (github is built in).' }),
    match: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Matcher, {
      description: 'Claim name → matcher. Every listed claim must be present and match. Must bind an identity claim.',
    }),
    grant: Grant,
  },
  strict,
);
export type PolicyConfig = Static<typeof Policy>;

const Issuer = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' }),
    kind: Type.Optional(
      Type.Union([Type.Literal('github'), Type.Literal('oidc')], {
        description: 'github: GitHub Actions claims and rules; oidc: a person\u2019s IdP ID token. Default github.',
      }),
    ),
    issuer: Type.Optional(Type.String({ description: 'Exact iss value. https only, except http://127.0.0.1 / localhost for local testing.' })),
    github_enterprise_slug: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'GHEC enterprise-unique issuer.' })),
    ghes_hostname: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]+(:[0-9]+)?$', description: 'GitHub Enterprise Server host.' })),
    ghe_com_subdomain: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'GHE.com data-residency subdomain.' })),
    audience: Type.Optional(Type.String({ minLength: 1, description: 'Expected aud; defaults to the top-level audience.' })),
    algorithms: Type.Optional(Type.Array(Type.String({ pattern: '^(RS|PS|ES)(256|384|512)$|^EdDSA$' }), { minItems: 1 })),
    jwks_uri: Type.Optional(Type.String({ description: 'Skip discovery and use this JWKS URL.' })),
    max_token_age: Type.Optional(Duration('Oldest iat accepted.')),
    max_lifetime: Type.Optional(Duration('Largest exp − iat accepted.')),
    clock_tolerance: Type.Optional(Duration('Skew allowed on exp / nbf / iat.')),
    identity_claims: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, description: 'Claims a policy of this issuer must bind (oidc default: sub).' }),
    ),
  },
  strict,
);
export type IssuerConfig = Static<typeof Issuer>;

export const ConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    audience: Type.String({ minLength: 1, description: 'The audience OIDC tokens must be minted for, e.g. https://skillgate.example.com.' }),
    listen: Type.Optional(
      Type.Object(
        { host: Type.Optional(Type.String()), port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })) },
        strict,
      ),
    ),
    store: Type.Optional(Type.String({ pattern: '^sqlite:.+$', description: 'sqlite:PATH (relative to this file) or sqlite::memory:.' })),
    log: Type.Optional(
      Type.Object({ level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))) }, strict),
    ),
    operators: Type.Optional(
      Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), token: SecretRef('Operator bearer credential.') }, strict), {
        description: 'Operator credentials for the broker API (tokens, audit, reports).',
      }),
    ),
    public_url: Type.Optional(Type.String({ description: 'URL callers reach the broker at; batch results_url is rewritten to it. Default http://listen.host:listen.port.' })),
    upstream: Type.Optional(
      Type.Object(
        {
          base_url: Type.Optional(Type.String({ description: 'Fixed upstream origin. Default https://api.anthropic.com; http only for 127.0.0.1 (tests).' })),
          credential: Type.String({
            pattern: '^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|aws-sm://.+)$',
            description: 'Where the real API key lives: env:NAME, file:PATH or aws-sm://SECRET_ID?region=…&key=JSON_FIELD.',
          }),
          refresh_interval: Type.Optional(Duration('How often the key is re-read from its store.')),
          stale_window: Type.Optional(Duration('How long a cached key may be used while its store is down.')),
          response_timeout: Type.Optional(Duration('Longest wait for upstream response headers.')),
          max_request_bytes: Type.Optional(Type.Integer({ minimum: 1024, description: 'Largest request body accepted (default 32 MiB).' })),
        },
        strict,
      ),
    ),
    masking: Type.Optional(
      Type.Object(
        {
          values: Type.Optional(Type.Array(SecretRef('A secret to mask in every response.'))),
          patterns: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), regex: Type.String({ minLength: 1 }) }, strict))),
        },
        strict,
      ),
    ),
    issuers: Type.Optional(Type.Array(Issuer, { description: 'Trusted issuers. github (token.actions.githubusercontent.com) is built in.' })),
    policies: Type.Array(Policy, { minItems: 1 }),
    approvers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ pattern: '^[a-z0-9][a-z0-9._@-]*$', description: 'Name a policy lists under grant.approval.approvers.' }),
            operator: Type.Optional(Type.String({ minLength: 1, description: 'Name of an entry in operators: that credential approves as this approver.' })),
            issuer: Type.Optional(Type.String({ minLength: 1, description: 'Name of an entry in issuers whose ID token (with sub) authenticates this approver.' })),
            sub: Type.Optional(Type.String({ minLength: 1, description: 'The sub claim of the approver\u2019s ID token (with issuer).' })),
          },
          strict,
        ),
        { description: 'People or teams who approve requests that a policy marks as needing approval. Each has an operator credential or an IdP identity (issuer + sub).' },
      ),
    ),
    approvals: Type.Optional(
      Type.Object(
        {
          webhook_url: Type.Optional(
            Type.String({ pattern: '^(https?://.+|env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$', description: 'Slack-compatible incoming webhook announcing pending approvals; a URL or env:NAME / file:PATH holding it.' }),
          ),
          pending_timeout: Type.Optional(Duration('How long a pending approval waits for a decision before it expires (default 1h).')),
        },
        strict,
      ),
    ),
    reconciler: Type.Optional(ReconcilerSchema),
  },
  { ...strict, title: 'skillgate configuration' },
);
export type ConfigFile = Static<typeof ConfigSchema>;
