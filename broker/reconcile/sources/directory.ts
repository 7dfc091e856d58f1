import { readFile } from 'node:fs/promises';
import type { SourceStatus } from '../findings.ts';

/** Every name an active directory account is known by (userName, emails, externalId, id), lower-cased. */
export type Directory = ReadonlySet<string>;

interface ScimUser {
  id?: unknown;
  userName?: unknown;
  externalId?: unknown;
  active?: unknown;
  emails?: { value?: unknown }[];
}

const PAGE_SIZE = 100;
/** A directory larger than this many pages is cut off and reported failed rather than paged for ever. */
const MAX_PAGES = 2000;
const TIMEOUT_MS = 30_000;

/**
 * `readDirectory` loads the people who still have an account. SCIM is paged with `startIndex` /
 * `count` (RFC 7644 §3.4.2.4); a user with `active: false` counts as gone. Any error fails the
 * source; an empty directory is implausible (a wrong URL or a token that sees nobody).
 */
export async function readDirectory(source: { kind: 'scim'; url: string; token?: string } | { kind: 'file'; path: string }): Promise<{ directory?: Directory; source: SourceStatus }> {
  let calls = 0;
  const status = (s: SourceStatus['status'], detail: string): SourceStatus => ({ name: 'idp', status: s, detail, calls });
  let names: Set<string>;
  try {
    if (source.kind === 'file') names = parseExport(await readFile(source.path, 'utf8'));
    else names = await pageScim(source.url, source.token, () => calls++);
  } catch (err) {
    return { source: status('failed', `${source.kind === 'file' ? `reading ${source.path}` : 'SCIM /Users'} failed: ${(err as Error).message}`) };
  }
  if (names.size === 0) return { source: status('implausible', 'the directory lists no active accounts; check its URL, token and filter') };
  return { directory: names, source: status('ok', `${names.size} names of active accounts`) };
}

async function pageScim(base: string, token: string | undefined, count: () => void): Promise<Set<string>> {
  const names = new Set<string>();
  for (let page = 0, startIndex = 1; page < MAX_PAGES; page++) {
    count();
    const res = await fetch(`${base}/Users?startIndex=${startIndex}&count=${PAGE_SIZE}`, {
      headers: { accept: 'application/scim+json, application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // The body of an error may echo what we sent; only the status is reported.
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = (await res.json()) as { Resources?: ScimUser[]; totalResults?: number };
    const users = Array.isArray(body.Resources) ? body.Resources : [];
    users.forEach((u) => addNames(names, u));
    startIndex += users.length;
    if (users.length === 0 || typeof body.totalResults !== 'number' || startIndex > body.totalResults) return names;
  }
  throw new Error(`more than ${MAX_PAGES} pages`);
}

/** A directory export: JSON (SCIM ListResponse, array of users or of names) or one name per line (# comments). */
function parseExport(text: string): Set<string> {
  const names = new Set<string>();
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const data = JSON.parse(trimmed) as unknown;
    const entries = Array.isArray(data) ? data : ((data as { Resources?: unknown[] }).Resources ?? []);
    for (const entry of entries) {
      if (typeof entry === 'string') names.add(entry.toLowerCase());
      else if (entry && typeof entry === 'object') addNames(names, entry as ScimUser);
    }
    return names;
  }
  for (const line of trimmed.split(/\r?\n/)) {
    const name = line.replace(/#.*/, '').trim();
    if (name !== '') names.add(name.toLowerCase());
  }
  return names;
}

function addNames(names: Set<string>, user: ScimUser): void {
  if (user.active === false) return;
  for (const value of [user.id, user.userName, user.externalId, ...(user.emails ?? []).map((e) => e.value)]) {
    if (typeof value === 'string' && value !== '') names.add(value.toLowerCase());
  }
}
