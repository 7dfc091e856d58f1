import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidRequest } from './errors.ts';
import type { StreamFault } from './faults.ts';
import type { MultipartPart } from './multipart.ts';
import type { RecordedRequest } from './recording.ts';
import type { SkillStore } from './skill-store.ts';
import type { FileStore } from './files.ts';
import type { BatchStore } from './batches.ts';
import type { AdminStore } from './admin-store.ts';

/** Beta gating knob (§8): which API surface the stub pretends to be. */
export type StubMode = 'beta' | 'ga' | 'both';

/** The resolved, mutable knobs of one stub instance (`setApiKeys` rewrites `apiKeys`). */
export interface StubSettings {
  apiKeys: string[];
  allowBearer: boolean;
  mode: StubMode;
  publicBaseUrl: string;
  eventDelayMs: number;
  echoSecret: string;
  /** Keep what was received (requests, usage); false for benchmarks, where it would only pile up. */
  retain: boolean;
}

/** Everything one stub instance remembers; passed to every handler, never held in module scope. */
export interface StubState {
  settings: StubSettings;
  skills: SkillStore;
  files: FileStore;
  batches: BatchStore;
  admin: AdminStore;
}

/** One request in flight, as handlers see it. */
export interface StubContext {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  /** Parsed once at recording time; `undefined` unless the body is valid form-data. */
  parts: MultipartPart[] | undefined;
  params: Record<string, string>;
  requestId: string;
  state: StubState;
  /** A fault that only bites once a stream has started (mid-stream error, truncation, reset). */
  streamFault: StreamFault | undefined;
}

export type RouteMethod = 'GET' | 'POST' | 'DELETE' | 'HEAD';

/** A route: `path` uses `:name` segments, e.g. `/v1/skills/:skill_id`. */
export interface Route {
  method: RouteMethod;
  path: string;
  handle(ctx: StubContext): void | Promise<void>;
}

/** `jsonBody` returns the request body parsed as a JSON object, or throws a 400 like the API. */
export function jsonBody(ctx: StubContext): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.record.body.toString('utf8'));
  } catch {
    throw invalidRequest('There was an error parsing the body of your request as JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest('The request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** `queryValue` returns the first value of a query parameter. */
export function queryValue(ctx: StubContext, key: string): string | undefined {
  const value = ctx.record.parsedQuery[key];
  return Array.isArray(value) ? value[0] : value;
}

/** `queryList` returns every value of a query parameter (`ids[]=a&ids[]=b` → `['a','b']`). */
export function queryList(ctx: StubContext, key: string): string[] {
  const value = ctx.record.parsedQuery[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
