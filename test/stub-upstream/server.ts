/**
 * A stub Anthropic API on 127.0.0.1 for tests: the proxy's upstream (reference §8). Built on
 * node:http, not fastify, so it has no framework behaviour of its own and controls chunking,
 * delays and resets exactly. Every request is recorded before anything else happens, so tests
 * can assert on what reached "Anthropic" even when the stub refused it.
 *
 * Per request: record → authenticate → check version → fault → route → reply.
 * Admin API routes live in `admin.ts` (state in `admin-store.ts`, reports in `admin-usage.ts`);
 * `/v1/messages` is metered (`usage-meter.ts`) so the usage report shows what was served.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminRoutes } from './admin.ts';
import { AdminStore } from './admin-store.ts';
import { authenticate, checkVersion } from './auth.ts';
import { batchRoutes, BatchStore, endBatches } from './batches.ts';
import type { Route, StubContext, StubMode, StubSettings, StubState } from './context.ts';
import { StubError, errorEnvelope } from './errors.ts';
import { FAULT_HEADER, FaultQueue, applyFault, parseFaultHeader, type Fault } from './faults.ts';
import { FileStore, fileRoutes } from './files.ts';
import { newRequestId } from './ids.ts';
import { messageRoutes } from './messages.ts';
import { modelRoutes } from './models.ts';
import { recordRequest, type RecordedRequest } from './recording.ts';
import { sendJson } from './reply.ts';
import { matchRoute, pathExists } from './router.ts';
import { SkillStore } from './skill-store.ts';
import { skillRoutes } from './skills.ts';
import { meterUsage } from './usage-meter.ts';

export type { Fault, StreamFault } from './faults.ts';
export type { RecordedPart, RecordedRequest } from './recording.ts';
export type { StubMode } from './context.ts';
export { DEFAULT_REPLY } from './replies.ts';
export { ADMIN_SEED } from './admin-seed.ts';
export type { AdminApiKey, AdminStore, AdminUser, ApiKeyShape, ApiKeyStatus, NewApiKey, NewUsage, UsageEntry } from './admin-store.ts';

/** The default upstream key. Short of the 108-char real format on purpose; see STUB_ECHO_SECRET. */
export const STUB_API_KEY = 'sk-ant-api03-stub-key-0000000000000000000000000000';

/** The default Admin API key, accepted on `/v1/organizations/*` only. Short for the same reason. */
export const STUB_ADMIN_KEY = 'sk-ant-admin01-stub-admin-key-00000000000000000000';

/**
 * The default fake secret scripted replies echo: a full-format Anthropic key (108 chars, matches
 * the gitleaks rule) so masker tests see a realistic secret. Assembled at runtime so repository
 * secret scanners do not flag this fixture.
 */
export const STUB_ECHO_SECRET = `sk-ant-api03-${'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_'.repeat(3).slice(0, 93)}AA`;

export interface StubUpstreamOptions {
  /**
   * Accepted upstream keys (`x-api-key`, or Bearer as SDK 1.x sends them); default
   * `[STUB_API_KEY, STUB_ADMIN_KEY]`. Admin keys only work on Admin API routes and vice versa.
   */
  apiKeys?: string[];
  /** OAuth mode: also accept any Bearer `sk-ant-oat01-…` access token. */
  allowBearer?: boolean;
  /** Beta gating knob (see `surface.ts`); default `'both'`. */
  mode?: StubMode;
  /** Base of batch `results_url`; default the stub's own url. */
  publicBaseUrl?: string;
  /** Delay between SSE events; default 0. */
  eventDelayMs?: number;
  /** The fake secret `echo-secret` replies carry; default `STUB_ECHO_SECRET`. */
  echoSecret?: string;
  /**
   * Keep every request in `requests` and meter usage for the Admin API; default true. A benchmark
   * turns it off: a record of every call would grow the stub's heap, and its GC time, run by run.
   */
  retain?: boolean;
}

export interface StubUpstream {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /**
   * Requests whose response closed before it was complete: the client went away mid-reply (a proxy
   * that aborts its upstream call when its own caller aborts, security.md M-15), or a reset fault.
   */
  aborted: RecordedRequest[];
  /** Replace the accepted keys (simulates key rotation). */
  setApiKeys(keys: string[]): void;
  /** Queue a fault for the next request it matches. */
  injectFault(fault: Fault): void;
  clearFaults(): void;
  /** Finish every pending message batch so its results can be fetched. */
  endBatches(): void;
  /** The Admin API's organisation, users, keys and usage ledger, seeded with `ADMIN_SEED`. */
  admin: AdminStore;
  close(): Promise<void>;
}

const ROUTES: readonly Route[] = [...meterUsage(messageRoutes), ...batchRoutes, ...modelRoutes, ...skillRoutes, ...fileRoutes, ...adminRoutes];

/** `startStubUpstream` listens on 127.0.0.1:0 and resolves once the stub accepts connections. */
export async function startStubUpstream(opts: StubUpstreamOptions = {}): Promise<StubUpstream> {
  const settings: StubSettings = {
    apiKeys: [...(opts.apiKeys ?? [STUB_API_KEY, STUB_ADMIN_KEY])],
    allowBearer: opts.allowBearer ?? false,
    mode: opts.mode ?? 'both',
    publicBaseUrl: opts.publicBaseUrl ?? '',
    eventDelayMs: opts.eventDelayMs ?? 0,
    echoSecret: opts.echoSecret ?? STUB_ECHO_SECRET,
    retain: opts.retain ?? true,
  };
  const state: StubState = {
    settings,
    skills: new SkillStore(),
    files: new FileStore(),
    batches: new BatchStore(),
    admin: new AdminStore(settings, STUB_API_KEY),
  };
  const requests: RecordedRequest[] = [];
  const aborted: RecordedRequest[] = [];
  const faults = new FaultQueue();
  const server = createServer((req, res) => {
    void handle(req, res, { state, requests, aborted, faults });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.settings.publicBaseUrl ||= url;

  return {
    url,
    requests,
    aborted,
    setApiKeys: (keys) => {
      state.settings.apiKeys = [...keys];
    },
    injectFault: (fault) => faults.push(fault),
    clearFaults: () => faults.clear(),
    endBatches: () => endBatches(state),
    admin: state.admin,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; close them or `close` waits for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

interface Shared {
  state: StubState;
  requests: RecordedRequest[];
  aborted: RecordedRequest[];
  faults: FaultQueue;
}

async function handle(req: IncomingMessage, res: ServerResponse, shared: Shared): Promise<void> {
  const requestId = newRequestId();
  res.setHeader('request-id', requestId);
  let recorded;
  try {
    recorded = await recordRequest(req);
  } catch {
    res.destroy(); // the client went away mid-body; there is nobody to answer
    return;
  }
  const { record, parts } = recorded;
  if (shared.state.settings.retain) {
    shared.requests.push(record);
    res.once('close', () => {
      if (!res.writableFinished) shared.aborted.push(record);
    });
  }
  const ctx: StubContext = { req, res, record, parts, params: {}, requestId, state: shared.state, streamFault: undefined };
  try {
    await serve(ctx, shared.faults);
  } catch (error) {
    replyWithError(ctx, error);
  }
}

async function serve(ctx: StubContext, faults: FaultQueue): Promise<void> {
  const { method, path } = ctx.record;
  if (method === 'HEAD' && path === '/') {
    ctx.res.writeHead(200).end(); // Claude Code's best-effort startup probe (§1.6)
    return;
  }
  if (!path.startsWith('/v1/')) throw new StubError(404, 'not_found_error', 'Not found');
  // Authentication before faults: a fault simulates the upstream failing a legitimate request,
  // so a request that would be refused anyway must not use up a queued fault.
  authenticate(ctx.record, ctx.state.settings);
  checkVersion(ctx.record);
  const faultHeader = ctx.record.headers[FAULT_HEADER];
  const fault = typeof faultHeader === 'string' ? parseFaultHeader(faultHeader) : faults.take(ctx.record);
  if (fault && (await applyFault(ctx, fault)) === 'done') return;
  const match = matchRoute(ROUTES, method, path);
  if (!match) {
    if (pathExists(ROUTES, path)) throw new StubError(405, 'invalid_request_error', `Method ${method} not allowed`);
    throw new StubError(404, 'not_found_error', `Not found: ${method} ${path}`);
  }
  ctx.params = match.params;
  await match.route.handle(ctx);
}

/** The one place errors become HTTP: Anthropic's envelope, or a reset once bytes are out. */
function replyWithError(ctx: StubContext, error: unknown): void {
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  if (error instanceof StubError) {
    sendJson(ctx, error.status, errorEnvelope(error, ctx.requestId), error.headers);
    return;
  }
  console.error('stub upstream: unexpected error', error);
  sendJson(ctx, 500, errorEnvelope(new StubError(500, 'api_error', 'Internal server error'), ctx.requestId));
}
