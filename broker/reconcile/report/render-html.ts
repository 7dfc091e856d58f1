import { createHash } from 'node:crypto';
import { KEY_REASONS, TOKEN_REASONS } from '../reasons.ts';
import { MAX_ROWS, statusLine } from './render-markdown.ts';
import type { RevocationReport } from './report-schema.ts';

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:78rem;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:12px}.status{font-size:1.05rem}
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700;font-weight:600}.muted{color:#656d76}
.legend span{margin-right:1rem}.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
.sw.revoked{background:#cf222e}.sw.held{background:#bf8700}.sw.expired{background:#8c959f}
`;

// Sorts a table by the clicked column: numerically when every cell is a number, else as text.
// The marker on <html> shows the page's CSP let the script run.
const SCRIPT = `
for (const table of document.querySelectorAll('table.sortable')) {
  table.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
    const body = table.tBodies[0];
    const rows = [...body.rows];
    const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    const key = (row) => row.cells[col] ? row.cells[col].textContent.trim() : '';
    const numeric = rows.every((row) => key(row) !== '' && !Number.isNaN(Number(key(row))));
    rows.sort((a, b) => dir * (numeric ? Number(key(a)) - Number(key(b)) : key(a).localeCompare(key(b))));
    table.querySelectorAll('th').forEach((other) => other.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    body.append(...rows);
  }));
}
document.documentElement.dataset.sortable = 'ready';
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page's Content-Security-Policy: nothing loads from anywhere; only its own style and script run. */
export const REPORT_HTML_CSP = `default-src 'none'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; base-uri 'none'; form-action 'none'`;

/**
 * `renderHtml` renders a report as one self-contained page for a security review: counts by
 * reason, a chart of revocations over recent runs, and sortable tables of what was checked,
 * revoked, flagged and recommended. No external resource; every value is escaped.
 */
export function renderHtml(r: RevocationReport): string {
  const s = r.summary;
  const statusClass = s.status === 'ok' ? 'ok' : s.status === 'braked' ? 'bad' : 'warn';
  const revocations = r.revocations.filter((x) => x.reason !== 'expired');
  const expired = r.revocations.filter((x) => x.reason === 'expired');
  const body = [
    `<header><h1>skillgate revocation report <code>${esc(r.id)}</code></h1>`,
    `<p class="status ${statusClass}" id="status">${esc(statusLine(r).replace(/\*\*/g, ''))}</p>`,
    `<p class="muted">Run ${esc(r.started_at)} · ${esc(r.trigger)} · ${r.duration_ms} ms · ${esc(r.holder)}${s.dry_run ? ' · <strong>dry run: nothing was changed</strong>' : ''}</p></header>`,
    section('summary', 'Summary', table('summary-table', ['measure', 'count'], [
      ['active tokens', s.tokens_active], ['principals holding them', s.principals_active], ['revoked', s.revoked], ['expired tokens closed out', s.closed_expired],
      ['would be revoked or closed (dry run)', s.would_revoke], ['held back by the safety brake', s.held], ['API keys checked', s.keys_checked],
      ['API keys flagged', s.keys_flagged], ['API keys deactivated', s.keys_deactivated], ['policies to narrow', s.recommendations], ['errors', s.errors],
    ])),
    section('by-reason', 'Counts by reason', table('reasons-table', ['reason', 'count', 'meaning'], Object.entries(s.by_reason).sort((a, b) => b[1] - a[1]).map(([code, n]) => [code, n, meaning(code)]))),
    section('chart', 'Revocations over time', chart(r.history)),
    section('brake', 'Safety brake', `<ul><li>tokens: ${r.brake.tokens.tripped ? '<strong class="bad">tripped</strong>: ' : ''}${esc(r.brake.tokens.detail)}</li><li>API keys: ${r.brake.keys.tripped ? '<strong class="bad">tripped</strong>: ' : ''}${esc(r.brake.keys.detail)}</li></ul>`),
    section('sources', 'Sources', table('sources-table', ['source', 'status', 'calls', 'detail'], r.sources.map((x) => [x.name, x.status, x.calls, x.detail]))),
    section('checks', 'What was checked', table('checks-table', ['check', 'status', 'checked', 'found', 'reason codes', 'notes'], r.checks.map((c) => [c.name, c.status, c.checked, c.found, c.reasons.join(' '), c.notes.join('; ')]))),
    section('revocations', 'Revocations', table('revocations-table', ['token', 'reason', 'outcome', 'principal', 'repository', 'policy', 'issued', 'last used', 'detail'], revocations.map((x) => [x.token_id, x.reason, x.outcome, x.principal, x.repository ?? x.repository_id ?? '', x.policy, x.issued_at, x.last_used_at ?? '', [x.detail, ...x.also.map((a) => `also ${a.reason}`)].join('; ')]))),
    section('expired', 'Expired tokens closed out', table('expired-table', ['token', 'outcome', 'policy', 'expired at'], expired.map((x) => [x.token_id, x.outcome, x.policy, x.expires_at]))),
    section('api-keys', 'Anthropic API keys', table('keys-table', ['key', 'name', 'reason', 'outcome', 'created by', 'hint', 'detail'], r.api_keys.map((k) => [k.id, k.name, k.reason, k.outcome, k.created_by ?? '', k.partial_key_hint ?? '', [k.detail, ...k.also.map((a) => `also ${a.reason}`), ...(k.note !== undefined ? [k.note] : [])].join('; ')]))),
    section('recommendations', 'Recommendations (scope drift)', table('recommendations-table', ['policy', 'requests', 'scopes used', 'scopes unused', 'tools used', 'tools unused', 'recommendation'], r.recommendations.map((d) => [d.policy, d.requests, d.scopes.used.join(', '), d.scopes.unused.join(', '), d.tools.used.join(', '), d.tools.unused.join(', '), d.recommendation ?? 'fits its use']))),
    section('errors', 'Errors', r.errors.length === 0 ? '<p>None.</p>' : `<ul>${r.errors.map((e) => `<li><strong>${esc(e.source)}</strong>: ${esc(e.message)}</li>`).join('')}</ul>`),
    section('deliveries', 'Deliveries', r.deliveries.length === 0 ? '<p>None.</p>' : `<ul>${r.deliveries.map((d) => `<li>${esc(d.target)}: ${esc(d.status)} — ${esc(d.detail)}</li>`).join('')}</ul>`),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(REPORT_HTML_CSP)}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>skillgate revocation report ${esc(r.id)}</title>
<style>${STYLE}</style></head>
<body>
${body.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}

function section(id: string, title: string, content: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${content}</section>`;
}

function table(id: string, head: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return `<p id="${id}" class="muted">None.</p>`;
  const shown = rows.slice(0, MAX_ROWS);
  const more = rows.length - shown.length;
  const tr = (row: (string | number)[]) => `<tr>${row.map((c) => (typeof c === 'number' ? `<td class="n">${c}</td>` : `<td>${esc(c)}</td>`)).join('')}</tr>`;
  return `<table id="${id}" class="sortable"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${shown.map(tr).join('')}</tbody></table>${more > 0 ? `<p class="muted">…and ${more} more rows in the JSON report.</p>` : ''}`;
}

/** Stacked bars per run (revoked, held, expired closed), newest on the right. */
function chart(history: RevocationReport['history']): string {
  const runs = history.slice(-30);
  const max = Math.max(1, ...runs.map((h) => h.revoked + h.held + h.closed_expired));
  const bar = 22;
  const gap = 8;
  const height = 140;
  const width = 48 + runs.length * (bar + gap);
  const y = (n: number) => Math.round((n / max) * height);
  const bars = runs.map((h, i) => {
    const x = 40 + i * (bar + gap);
    let top = height + 10;
    const part = (n: number, cls: string, fill: string) => {
      if (n === 0) return '';
      top -= y(n);
      return `<rect class="${cls}" x="${x}" y="${top}" width="${bar}" height="${y(n)}" fill="${fill}"><title>${esc(`${h.started_at}: ${n} ${cls}`)}</title></rect>`;
    };
    const label = `<text x="${x + bar / 2}" y="${height + 24}" font-size="9" text-anchor="middle">${esc(h.started_at.slice(5, 10))}</text>`;
    return part(h.revoked, 'revoked', '#cf222e') + part(h.held, 'held', '#bf8700') + part(h.closed_expired, 'expired', '#8c959f') + label;
  });
  return `<svg id="revocations-chart" role="img" aria-label="Revocations per run" width="${width}" height="${height + 32}" viewBox="0 0 ${width} ${height + 32}">
<line x1="36" y1="10" x2="36" y2="${height + 10}" stroke="#8c959f"/><line x1="36" y1="${height + 10}" x2="${width}" y2="${height + 10}" stroke="#8c959f"/>
<text x="32" y="16" font-size="10" text-anchor="end">${max}</text><text x="32" y="${height + 10}" font-size="10" text-anchor="end">0</text>
${bars.join('\n')}</svg>
<p class="legend"><span><i class="sw revoked"></i>revoked</span><span><i class="sw held"></i>held by the brake</span><span><i class="sw expired"></i>expired closed out</span></p>`;
}

function meaning(code: string): string {
  return (TOKEN_REASONS as Record<string, string>)[code] ?? (KEY_REASONS as Record<string, string>)[code] ?? '';
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
