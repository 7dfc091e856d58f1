import type { TokenRecord } from '../store/store.ts';
import { formatCheckpoint, type StoredAuditRecord } from './audit-record.ts';

/** One proxied call as a reviewer reads it: what was asked, what came back, what was refused. */
export interface TranscriptCall {
  requestId: string;
  at: string;
  operation?: string;
  outcome?: string;
  reason?: string;
  status?: number;
  model?: string;
  prompt?: string;
  tools?: string[];
  skills?: string[];
  reply?: string;
  toolCalls?: { name: string; input: string }[];
  usage?: unknown;
  masked?: number;
  truncated?: boolean;
}

export interface Transcript {
  session: string;
  token?: { policy: string; scopes: string[]; identity: Record<string, unknown>; issuedAt: string; expiresAt: string; revoked?: string };
  events: { at: string; type: string; outcome?: string; reason?: string }[];
  calls: TranscriptCall[];
  /** The link of the session's last record (`<seq>:<hash>`): kept elsewhere, `audit verify --checkpoint` later proves the trail still holds the session. */
  checkpoint?: string;
}

/**
 * `buildTranscript` replays a session from its audit records: each `proxy.request` joined with its
 * outcome (or denial), the prompt and the reply reconstructed from the masked bodies — JSON
 * messages directly, streams by folding their text and tool-input deltas back together.
 */
export function buildTranscript(session: string, token: TokenRecord | undefined, records: StoredAuditRecord[]): Transcript {
  const calls = new Map<string, TranscriptCall>();
  const events: Transcript['events'] = [];
  for (const r of records) {
    const at = new Date(r.at).toISOString();
    if (r.type === 'proxy.request' && r.requestId) {
      calls.set(r.requestId, { requestId: r.requestId, at, ...(r.operation && { operation: r.operation }), ...describeRequest(r.data?.['request']) });
    } else if ((r.type === 'proxy.outcome' || r.type === 'proxy.denied') && r.requestId) {
      // A call refused before its request record was written carries what it asked in the denial.
      const call = calls.get(r.requestId) ?? { requestId: r.requestId, at, ...(r.operation && { operation: r.operation }), ...describeRequest(r.data?.['request']) };
      Object.assign(call, { outcome: r.outcome, ...(r.reason && { reason: r.reason }), status: r.data?.['status'], usage: r.data?.['usage'], masked: r.data?.['masked'] }, describeResponse(r.data?.['response']));
      calls.set(r.requestId, call);
    } else {
      events.push({ at, type: r.type, ...(r.outcome && { outcome: r.outcome }), ...(r.reason && { reason: r.reason }) });
    }
  }
  return {
    session,
    ...(token && {
      token: {
        policy: token.policy,
        scopes: token.scopes,
        identity: { ...token.identity },
        issuedAt: new Date(token.issuedAt).toISOString(),
        expiresAt: new Date(token.expiresAt).toISOString(),
        ...(token.revokedAt !== undefined && { revoked: `${new Date(token.revokedAt).toISOString()} (${token.revokedReason ?? ''})` }),
      },
    }),
    events,
    calls: [...calls.values()],
    ...(records.length > 0 && { checkpoint: formatCheckpoint(records.at(-1)!) }),
  };
}

function describeRequest(captured: unknown): Partial<TranscriptCall> {
  const { body, truncated } = (captured ?? {}) as { body?: unknown; truncated?: boolean };
  if (typeof body !== 'object' || body === null) return truncated ? { truncated } : {};
  const b = body as { model?: unknown; messages?: { role?: string; content?: unknown }[]; tools?: { name?: string; type?: string }[]; container?: { skills?: { skill_id?: string }[] } };
  const lastUser = [...(b.messages ?? [])].reverse().find((m) => m.role === 'user');
  return {
    ...(typeof b.model === 'string' && { model: b.model }),
    ...(lastUser && { prompt: textOf(lastUser.content) }),
    ...(b.tools && { tools: b.tools.map((t) => t.name ?? t.type ?? '?') }),
    ...(b.container?.skills && { skills: b.container.skills.map((s) => s.skill_id ?? '?') }),
    ...(truncated && { truncated }),
  };
}

function describeResponse(captured: unknown): Partial<TranscriptCall> {
  const { body, stream, truncated } = (captured ?? {}) as { body?: string; stream?: boolean; truncated?: boolean };
  if (typeof body !== 'string') return {};
  const content = stream ? foldStream(body) : parseMessageContent(body);
  const reply = content.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('');
  const toolCalls = content.filter((c) => c.type === 'tool_use' || c.type === 'server_tool_use').map((c) => ({ name: c.name ?? '?', input: c.input ?? '' }));
  return { ...(reply && { reply }), ...(toolCalls.length > 0 && { toolCalls }), ...(truncated && { truncated }) };
}

interface Block {
  type: string;
  text?: string;
  name?: string;
  input?: string;
}

function parseMessageContent(body: string): Block[] {
  try {
    const message = JSON.parse(body) as { content?: { type: string; text?: string; name?: string; input?: unknown }[] };
    return (message.content ?? []).map((c) => ({ type: c.type, ...(c.text !== undefined && { text: c.text }), ...(c.name !== undefined && { name: c.name }), ...(c.input !== undefined && { input: JSON.stringify(c.input) }) }));
  } catch {
    return [{ type: 'text', text: body }];
  }
}

/** Folds a captured SSE stream back into content blocks, as the SDK's accumulator does. */
function foldStream(sse: string): Block[] {
  const blocks: Block[] = [];
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data:')) continue;
    let event: { type?: string; index?: number; content_block?: { type: string; text?: string; name?: string }; delta?: { type?: string; text?: string; partial_json?: string } };
    try {
      event = JSON.parse(line.slice(5)) as typeof event;
    } catch {
      continue;
    }
    if (event.type === 'content_block_start' && event.index !== undefined && event.content_block) {
      blocks[event.index] = { type: event.content_block.type, text: event.content_block.text ?? '', ...(event.content_block.name !== undefined && { name: event.content_block.name }), input: '' };
    } else if (event.type === 'content_block_delta' && event.index !== undefined) {
      const block = blocks[event.index];
      if (!block) continue;
      if (event.delta?.type === 'text_delta') block.text = (block.text ?? '') + (event.delta.text ?? '');
      if (event.delta?.type === 'input_json_delta') block.input = (block.input ?? '') + (event.delta.partial_json ?? '');
    }
  }
  return blocks.filter(Boolean);
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c: { type?: string; text?: string }) => (c.type === 'text' ? (c.text ?? '') : `[${c.type ?? 'block'}]`)).join('\n');
  return '';
}

/** `renderMarkdown` turns a transcript into the Markdown a reviewer reads (CLI replay, API ?format=md). */
export function renderMarkdown(t: Transcript): string {
  const lines = [`# Session ${t.session}`, ''];
  if (t.token) {
    const id = t.token.identity;
    lines.push(`- policy **${t.token.policy}**, scopes ${t.token.scopes.join(' ')}`);
    lines.push(`- ${String(id['repository'] ?? id['sub'] ?? '')} · run ${String(id['run_id'] ?? '-')} attempt ${String(id['run_attempt'] ?? '-')} · actor ${String(id['actor'] ?? '-')} · ${String(id['event_name'] ?? '')} ${String(id['ref'] ?? '')}`);
    lines.push(`- issued ${t.token.issuedAt}, expires ${t.token.expiresAt}${t.token.revoked ? `, revoked ${t.token.revoked}` : ''}`);
    lines.push('');
  }
  for (const [i, c] of t.calls.entries()) {
    lines.push(`## ${i + 1}. ${c.operation ?? 'call'} — ${c.outcome ?? 'no outcome recorded'}${c.reason ? ` (${c.reason})` : ''}`, '');
    lines.push(`${c.at} · request ${c.requestId}${c.model ? ` · model ${c.model}` : ''}${c.status !== undefined ? ` · status ${c.status}` : ''}`);
    if (c.tools?.length) lines.push(`tools: ${c.tools.join(', ')}`);
    if (c.skills?.length) lines.push(`skills: ${c.skills.join(', ')}`);
    if (c.prompt) lines.push('', '**Prompt**', '', quote(c.prompt));
    if (c.reply) lines.push('', '**Reply**', '', quote(c.reply));
    for (const call of c.toolCalls ?? []) lines.push('', `**Tool call** \`${call.name}\` ${'`'}${call.input}${'`'}`);
    if (c.usage) lines.push('', `usage: ${JSON.stringify(c.usage)}${c.masked ? ` · ${c.masked} secret(s) masked` : ''}${c.truncated ? ' · body truncated' : ''}`);
    lines.push('');
  }
  if (t.events.length) {
    lines.push('## Other events', '');
    for (const e of t.events) lines.push(`- ${e.at} ${e.type}${e.outcome ? ` ${e.outcome}` : ''}${e.reason ? ` (${e.reason})` : ''}`);
  }
  if (t.checkpoint) lines.push('', `Audit checkpoint \`${t.checkpoint}\` (\`skillgate audit verify --checkpoint\` proves the trail still holds this session).`);
  return `${lines.join('\n')}\n`;
}

const quote = (text: string) => text.split('\n').map((l) => `> ${l}`).join('\n');
