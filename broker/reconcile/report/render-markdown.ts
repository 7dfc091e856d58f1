import { KEY_REASONS, TOKEN_REASONS } from '../reasons.ts';
import type { RevocationReport } from './report-schema.ts';

/** Rows per table; the JSON report always holds every row. */
export const MAX_ROWS = 500;

/** `renderMarkdown` renders a report for a GitHub issue, a PR or a terminal. */
export function renderMarkdown(r: RevocationReport, opts: { maxRows?: number } = {}): string {
  const max = opts.maxRows ?? MAX_ROWS;
  const s = r.summary;
  const out: string[] = [];
  out.push(`# skillgate revocation report ${r.id}`, '');
  out.push(`${statusLine(r)}`, '');
  out.push(`Run ${r.started_at} (${r.trigger}${s.dry_run ? ', **dry run: nothing was changed**' : ''}), ${r.duration_ms} ms, by ${r.holder}.`, '');
  out.push('## Summary', '');
  out.push(
    table(
      ['', 'count'],
      [
        ['active tokens', s.tokens_active],
        ['principals holding them', s.principals_active],
        ['revoked', s.revoked],
        ['expired tokens closed out', s.closed_expired],
        ...(s.dry_run ? [['would be revoked or closed', s.would_revoke] as [string, number]] : []),
        ['held back by the safety brake', s.held],
        ['API keys checked / flagged / deactivated', `${s.keys_checked} / ${s.keys_flagged} / ${s.keys_deactivated}`],
        ['policies to narrow', s.recommendations],
        ['errors', s.errors],
      ],
    ),
    '',
  );
  const reasons = Object.entries(s.by_reason).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) out.push('### By reason', '', table(['reason', 'count', 'meaning'], reasons.map(([code, n]) => [`\`${code}\``, n, meaning(code)])), '');
  out.push('## Safety brake', '', `- tokens: ${r.brake.tokens.tripped ? '**tripped**: ' : ''}${r.brake.tokens.detail}`, `- API keys: ${r.brake.keys.tripped ? '**tripped**: ' : ''}${r.brake.keys.detail}`, '');
  if (r.sources.length > 0) out.push('## Sources', '', table(['source', 'status', 'calls', 'detail'], r.sources.map((x) => [x.name, x.status === 'ok' ? 'ok' : `**${x.status}**`, x.calls, x.detail])), '');
  out.push('## What was checked', '', table(['check', 'status', 'checked', 'found', 'reason codes', 'notes'], r.checks.map((c) => [c.name, c.status, c.checked, c.found, c.reasons.map((x) => `\`${x}\``).join(' '), c.notes.join('; ')])), '');
  const revocations = r.revocations.filter((x) => x.reason !== 'expired');
  const expired = r.revocations.filter((x) => x.reason === 'expired');
  out.push('## Revocations', '');
  if (revocations.length === 0) out.push('None.', '');
  else out.push(capped(['token', 'reason', 'outcome', 'principal', 'repository', 'policy', 'detail'], revocations.map((x) => [`\`${x.token_id}\``, `\`${x.reason}\``, x.outcome, x.principal, x.repository ?? x.repository_id ?? '', x.policy, [x.detail, ...x.also.map((a) => `also ${a.reason}`)].join('; ')]), max), '');
  if (expired.length > 0) out.push('## Expired tokens closed out', '', capped(['token', 'outcome', 'policy', 'expired at'], expired.map((x) => [`\`${x.token_id}\``, x.outcome, x.policy, x.expires_at]), max), '');
  if (r.api_keys.length > 0) {
    out.push('## Anthropic API keys', '', capped(['key', 'name', 'reason', 'outcome', 'created by', 'hint', 'detail'], r.api_keys.map((k) => [`\`${k.id}\``, k.name, `\`${k.reason}\``, k.outcome, k.created_by ?? '', k.partial_key_hint ?? '', [k.detail, ...k.also.map((a) => `also ${a.reason}`), ...(k.note !== undefined ? [k.note] : [])].join('; ')]), max), '');
  }
  if (r.recommendations.length > 0) {
    out.push('## Recommendations (scope drift)', '', table(['policy', 'requests', 'scopes used / granted', 'tools used / granted', 'recommendation'], r.recommendations.map((d) => [d.policy, d.requests, `${d.scopes.used.join(', ') || '—'} / ${d.scopes.granted.join(', ')}`, `${d.tools.used.join(', ') || '—'} / ${d.tools.granted.join(', ')}`, d.recommendation ?? 'fits its use'])), '');
  }
  if (r.errors.length > 0) out.push('## Errors', '', ...r.errors.map((e) => `- **${e.source}**: ${cell(e.message)}`), '');
  if (r.deliveries.length > 0) out.push('## Deliveries', '', ...r.deliveries.map((d) => `- ${d.target}: ${d.status} — ${cell(d.detail)}`), '');
  return out.join('\n');
}

/** `statusLine` is the one-line verdict that heads every rendering and webhook message. */
export function statusLine(r: RevocationReport): string {
  const s = r.summary;
  const verdict = s.status === 'braked' ? 'SAFETY BRAKE TRIPPED' : s.status === 'degraded' ? 'DEGRADED' : 'OK';
  return `**${verdict}** — ${s.revoked} revoked, ${s.closed_expired} expired closed, ${s.held} held, ${s.keys_flagged} API keys flagged, ${s.errors} errors.`;
}

function meaning(code: string): string {
  return (TOKEN_REASONS as Record<string, string>)[code] ?? (KEY_REASONS as Record<string, string>)[code] ?? '';
}

function capped(head: string[], rows: (string | number)[][], max: number): string {
  const more = rows.length - max;
  return table(head, rows.slice(0, max)) + (more > 0 ? `\n\n…and ${more} more rows in the JSON report.` : '');
}

function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map((c) => cell(String(c))).join(' | ')} |`)].join('\n');
}

/** Table cells stay one line and cannot close the table or open HTML. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;');
}
