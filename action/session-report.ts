// The job summary and PR comment: what the job asked Claude for, what ran, what was refused,
// masked or approved, from the broker's session replay. No toolkit import: this returns Markdown.
import type { SessionCall, SessionTranscript } from './broker-client.ts';

/** Finds the report's PR comment again; keyed by workflow and job so each job keeps one comment. */
export function commentMarker(workflow: string, job: string): string {
  return `<!-- skillgate-session-report ${encodeURIComponent(workflow)}/${encodeURIComponent(job)} -->`;
}

export interface SessionTotals {
  calls: number;
  ok: number;
  denied: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  masked: number;
  models: Map<string, number>;
  skills: Map<string, number>;
  approvals: Map<string, number>;
}

/** `summarizeSession` counts a session's calls, tokens, models, skills, masks and approval events. */
export function summarizeSession(t: SessionTranscript): SessionTotals {
  const totals: SessionTotals = { calls: t.calls.length, ok: 0, denied: 0, failed: 0, inputTokens: 0, outputTokens: 0, masked: 0, models: new Map(), skills: new Map(), approvals: new Map() };
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const c of t.calls) {
    if (c.outcome === 'ok') totals.ok++;
    else if (c.outcome === 'denied') totals.denied++;
    else totals.failed++;
    totals.inputTokens += c.usage?.inputTokens ?? 0;
    totals.outputTokens += c.usage?.outputTokens ?? 0;
    totals.masked += c.masked ?? 0;
    if (c.model !== undefined && c.outcome !== 'denied') bump(totals.models, c.model);
    if (c.outcome !== 'denied') for (const skill of c.skills ?? []) bump(totals.skills, skill);
  }
  for (const e of t.events) if (e.type.startsWith('approval.') && e.outcome !== 'refused') bump(totals.approvals, e.type.slice('approval.'.length));
  return totals;
}

export interface ReportInput {
  sessionId: string;
  /** Undefined when the audit API could not be read; `auditError` says why. */
  transcript?: SessionTranscript;
  auditError?: string;
  revoked: boolean;
  runUrl?: string;
}

/** `renderSessionReport` returns the Markdown of the job summary (and of the PR comment body). */
export function renderSessionReport(input: ReportInput): string {
  const lines = [`### skillgate session \`${input.sessionId}\``, ''];
  const t = input.transcript;
  if (t === undefined) {
    lines.push(`The session could not be read from the broker's audit API${input.auditError ? `: ${cell(input.auditError)}` : ''}.`, '');
    lines.push(revocationLine(input.revoked), '');
    return lines.join('\n');
  }
  if (t.token) lines.push(identityLine(t.token.policy, t.token.scopes, t.token.identity, input.runUrl), '');
  const s = summarizeSession(t);
  lines.push(
    '| calls | allowed | denied | failed | input tokens | output tokens | secrets masked |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${s.calls} | ${s.ok} | ${s.denied} | ${s.failed} | ${s.inputTokens} | ${s.outputTokens} | ${s.masked} |`,
    '',
    `- **Models:** ${counted(s.models) || 'none'}`,
    `- **Skills run:** ${counted(s.skills) || 'none'}`,
    `- **Approvals:** ${counted(s.approvals, false) || 'none requested'}`,
    `- ${revocationLine(input.revoked)}`,
    ...(t.checkpoint ? [`- **Audit checkpoint:** \`${cell(t.checkpoint)}\` — kept here, outside the broker; \`skillgate audit verify --checkpoint\` proves later that the broker's trail still holds this session unchanged.`] : []),
    '',
  );
  const denials = t.calls.filter((c) => c.outcome === 'denied');
  if (denials.length > 0) {
    lines.push('#### Denied', '', '| # | operation | reason | status |', '| ---: | --- | --- | ---: |');
    for (const c of denials) lines.push(`| ${t.calls.indexOf(c) + 1} | ${cell(c.operation)} | ${cell(c.reason)} | ${c.status ?? ''} |`);
    lines.push('');
  }
  const masked = t.calls.filter((c) => (c.masked ?? 0) > 0);
  if (masked.length > 0) {
    lines.push('#### Masked', '');
    for (const c of masked) lines.push(`- call ${t.calls.indexOf(c) + 1} (${cell(c.operation)}${c.model ? `, ${cell(c.model)}` : ''}): ${c.masked} secret(s) replaced in the reply before the job saw it`);
    lines.push('');
  }
  if (t.calls.length > 0) {
    lines.push(`<details><summary>All calls (${t.calls.length})</summary>`, '', '| # | time (UTC) | operation | model | outcome | tokens in / out | masked | prompt |', '| ---: | --- | --- | --- | --- | ---: | ---: | --- |');
    for (const [i, c] of t.calls.entries()) lines.push(callRow(i + 1, c));
    lines.push('', '</details>', '');
  }
  return lines.join('\n');
}

function identityLine(policy: string, scopes: string[], id: Record<string, unknown>, runUrl: string | undefined): string {
  const run = id['run_id'] !== undefined ? `run ${cell(id['run_id'])}${id['run_attempt'] !== undefined ? ` (attempt ${cell(id['run_attempt'])})` : ''}` : '';
  const parts = [
    id['repository'] !== undefined ? `**${cell(id['repository'])}**` : cell(id['sub']),
    runUrl ? `[${run || 'run'}](${runUrl})` : run,
    id['actor'] !== undefined ? `actor ${cell(id['actor'])}` : '',
    [id['event_name'], id['ref']].filter((v) => v !== undefined).map(cell).join(' '),
    `policy \`${cell(policy)}\``,
    `scopes ${scopes.map((s) => `\`${cell(s)}\``).join(' ')}`,
  ];
  return parts.filter((p) => p !== '').join(' · ');
}

function revocationLine(revoked: boolean): string {
  return revoked ? '**Token:** revoked when the job ended.' : '**Token:** could not be revoked; it stops working when it expires (see the warning in the log).';
}

function callRow(n: number, c: SessionCall): string {
  const tokens = c.usage ? `${c.usage.inputTokens ?? 0} / ${c.usage.outputTokens ?? 0}` : '';
  const outcome = c.outcome === undefined ? 'no outcome recorded' : `${c.outcome}${c.reason ? ` (${c.reason})` : ''}`;
  return `| ${n} | ${c.at.slice(11, 19)} | ${cell(c.operation)} | ${cell(c.model)} | ${cell(outcome)} | ${tokens} | ${c.masked ?? 0} | ${cell(clip(c.prompt, 80))} |`;
}

function counted(map: Map<string, number>, code = true): string {
  return [...map].map(([name, n]) => `${code ? `\`${cell(name)}\`` : cell(name)}${n > 1 || !code ? ` ×${n}` : ''}`).join(', ');
}

function clip(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * `cell` makes text from the audit trail (model names and prompts come from the job's requests)
 * inert in a table cell or code span: no HTML, no links, no @-mentions, no breaking out of the table.
 */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value)
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/`/g, "'")
    .replace(/([[\]])/g, '\\$1')
    .replace(/@(?=\w)/g, '@\u2060');
}
