import Type, { type Static } from 'typebox';
import { KEY_REASON_CODES, KEY_REASONS, SOURCES, TOKEN_REASON_CODES, TOKEN_REASONS } from '../reasons.ts';

/**
 * The revocation report: one JSON document per reconciler run, the source of its Markdown and
 * HTML renderings. This schema is published as `schema/revocation-report.schema.json`
 * (`npx tsx scripts/write-report-schema.ts`); tests validate every rendered report against it.
 * Times are ISO 8601 UTC. Never holds a token, a key or a token hash.
 */
const strict = { additionalProperties: false } as const;
const Time = (description: string) => Type.String({ format: 'date-time', description });
const Literals = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v)), { description }));
const describeAll = (table: Record<string, string>) => Object.entries(table).map(([code, text]) => `${code}: ${text}`).join('; ');

const TokenReason = Literals(TOKEN_REASON_CODES, `Why a token is revoked. ${describeAll(TOKEN_REASONS)}.`);
const KeyReason = Literals(KEY_REASON_CODES, `Why an Anthropic API key is flagged. ${describeAll(KEY_REASONS)}.`);
const SourceName = Literals(Object.keys(SOURCES) as (keyof typeof SOURCES)[], `An outside source: ${describeAll(SOURCES)}.`);
const Count = Type.Integer({ minimum: 0 });

export const TOKEN_OUTCOMES = ['revoked', 'would_revoke', 'held', 'already_revoked'] as const;
export const KEY_OUTCOMES = ['flagged', 'deactivated', 'would_deactivate', 'held', 'exempt', 'failed'] as const;

const Summary = Type.Object(
  {
    status: Literals(['ok', 'braked', 'degraded'] as const, 'ok: every source answered; braked: the safety brake held revocations back; degraded: a source failed or answered implausibly, or something else went wrong (see errors).'),
    dry_run: Type.Boolean(),
    tokens_active: Type.Integer({ minimum: 0, description: 'Tokens neither revoked nor expired when the run began.' }),
    principals_active: Type.Integer({ minimum: 0, description: 'Distinct principals (GitHub actors, IdP subjects) holding them.' }),
    revoked: Type.Integer({ minimum: 0, description: 'Tokens revoked for a reason other than expiry.' }),
    closed_expired: Type.Integer({ minimum: 0, description: 'Expired tokens closed out.' }),
    would_revoke: Type.Integer({ minimum: 0, description: 'Dry run: tokens that would have been revoked or closed out.' }),
    held: Type.Integer({ minimum: 0, description: 'Revocations the safety brake held back.' }),
    keys_checked: Count,
    keys_flagged: Type.Integer({ minimum: 0, description: 'Keys with a finding, whatever happened to them.' }),
    keys_deactivated: Count,
    recommendations: Count,
    errors: Count,
    by_reason: Type.Record(Type.String(), Count, { description: 'Tokens and keys per primary reason code, whatever their outcome.' }),
  },
  strict,
);

export const RevocationReportSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    schema_version: Type.Literal(1),
    id: Type.String({ pattern: '^rpt_[0-9A-Za-z]{16}$' }),
    trigger: Literals(['schedule', 'catch_up', 'cli'] as const, 'schedule: a cron slot; catch_up: a slot missed while no broker ran, run at start-up; cli: skillgate reconcile --once.'),
    holder: Type.String({ description: 'The broker process that ran it (host:pid:id).' }),
    started_at: Time('When the run began.'),
    finished_at: Time('When the report was written.'),
    duration_ms: Count,
    settings: Type.Object(
      {
        stale_after: Type.String(),
        max_share: Type.Number(),
        floor: Count,
        github_orgs: Type.Array(Type.String()),
        idp_claim: Type.Union([Type.String(), Type.Null()]),
        anthropic_keys_enforce: Type.Union([Type.Boolean(), Type.Null()], { description: 'null when the key inventory is not configured.' }),
        scope_drift_window: Type.String(),
      },
      { ...strict, description: 'The settings this run used.' },
    ),
    summary: Summary,
    checks: Type.Array(
      Type.Object(
        {
          name: Literals(['expired', 'stale', 'policy_drift', 'offboarded', 'idp', 'repositories', 'api_keys', 'scope_drift'] as const, 'The check.'),
          status: Literals(['ran', 'source_failed', 'not_configured'] as const, 'source_failed: its source failed or was implausible, so it revoked nothing.'),
          checked: Type.Integer({ minimum: 0, description: 'Tokens (keys, policies) it judged.' }),
          found: Count,
          reasons: Type.Array(Type.String(), { description: 'The reason codes this check can give.' }),
          notes: Type.Array(Type.String()),
        },
        strict,
      ),
      { description: 'What was checked.' },
    ),
    sources: Type.Array(
      Type.Object(
        {
          name: SourceName,
          status: Literals(['ok', 'failed', 'implausible'] as const, 'failed or implausible: nothing was revoked on its word.'),
          detail: Type.String(),
          calls: Type.Integer({ minimum: 0, description: 'HTTP requests made (pages and retries included).' }),
        },
        strict,
      ),
    ),
    brake: Type.Object(
      {
        tokens: Type.Object({ tripped: Type.Boolean(), affected: Count, population: Count, detail: Type.String() }, strict),
        keys: Type.Object({ tripped: Type.Boolean(), affected: Count, population: Count, detail: Type.String() }, strict),
      },
      { ...strict, description: 'The safety brake: affected/population are principals (tokens) or keys.' },
    ),
    revocations: Type.Array(
      Type.Object(
        {
          token_id: Type.String({ pattern: '^tok_' }),
          reason: TokenReason,
          detail: Type.String(),
          also: Type.Array(Type.Object({ reason: TokenReason, detail: Type.String() }, strict), { description: 'Further reasons that applied.' }),
          outcome: Literals(TOKEN_OUTCOMES, 'revoked; would_revoke (dry run); held (safety brake); already_revoked (revoked by someone else during the run).'),
          policy: Type.String(),
          principal: Type.String(),
          issuer: Type.String(),
          repository: Type.Optional(Type.String()),
          repository_id: Type.Optional(Type.String()),
          actor: Type.Optional(Type.String()),
          sub: Type.String(),
          issued_at: Time('When the token was minted.'),
          expires_at: Time('When it would have expired.'),
          last_used_at: Type.Optional(Time('Its latest proxied request within stale_after, when there was one.')),
        },
        strict,
      ),
      { description: 'What was revoked (or would be, or was held back) and why.' },
    ),
    api_keys: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          name: Type.String(),
          workspace_id: Type.Union([Type.String(), Type.Null()]),
          created_at: Type.String(),
          created_by: Type.Union([Type.String(), Type.Null()]),
          partial_key_hint: Type.Union([Type.String(), Type.Null()]),
          reason: KeyReason,
          detail: Type.String(),
          also: Type.Array(Type.Object({ reason: KeyReason, detail: Type.String() }, strict)),
          outcome: Literals(KEY_OUTCOMES, 'flagged (enforce off); deactivated (set inactive, reversible); would_deactivate (dry run); held (safety brake); exempt; failed.'),
          note: Type.Optional(Type.String()),
        },
        strict,
      ),
      { description: 'Long-lived Anthropic API keys that were only flagged, or deactivated.' },
    ),
    recommendations: Type.Array(
      Type.Object(
        {
          policy: Type.String(),
          window: Type.String(),
          requests: Count,
          scopes: Type.Object({ granted: Type.Array(Type.String()), used: Type.Array(Type.String()), unused: Type.Array(Type.String()) }, strict),
          tools: Type.Object({ granted: Type.Array(Type.String()), used: Type.Array(Type.String()), unused: Type.Array(Type.String()) }, strict),
          unreadable: Type.Integer({ minimum: 0, description: 'Requests whose recorded body was truncated, so their tools are unknown.' }),
          recommendation: Type.Union([Type.String(), Type.Null()], { description: 'How to narrow the grant, or null when it fits its use.' }),
        },
        strict,
      ),
      { description: 'Scope drift per policy: granted vs used over the window.' },
    ),
    deliveries: Type.Array(
      Type.Object({ target: Literals(['store', 'directory', 'webhook', 'github_issue'] as const, 'Where the report went.'), status: Literals(['ok', 'failed'] as const, 'Outcome.'), detail: Type.String() }, strict),
    ),
    errors: Type.Array(Type.Object({ source: Type.String(), message: Type.String() }, strict), { description: 'What went wrong: failed sources, failed key updates, failed deliveries.' }),
    history: Type.Array(
      Type.Object({ id: Type.String(), started_at: Time('Run start.'), revoked: Count, closed_expired: Count, held: Count, keys_flagged: Count }, strict),
      { description: 'Recent runs, oldest first, this one last: the chart of revocations over time.' },
    ),
  },
  { ...strict, title: 'skillgate revocation report' },
);

export type RevocationReport = Static<typeof RevocationReportSchema>;
export type ReportSummary = RevocationReport['summary'];

/** `reportJsonSchema` renders the schema as the document published in schema/. */
export function reportJsonSchema(): string {
  const doc = { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'https://skillgate.dev/schema/revocation-report.schema.json', ...RevocationReportSchema };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
