/**
 * A fake GitHub REST API on 127.0.0.1 for the reconciler's tests and benchmark, driven by the real
 * `@octokit/rest`. In-memory maps only: the benchmark seeds thousands of members and repositories
 * and drives thousands of calls.
 *
 * Per request: record → authenticate → count against the rate limit → fault → route → reply.
 * Routes: `orgs.ts` (members, memberships), `repos.ts` (by name and by id; transfer redirects),
 * `issues.ts` (issues and comments), and `GET /rate_limit` here.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { FaultQueue, faultError, type GithubFault } from './faults.ts';
import { orgRoutes } from './orgs.ts';
import { RateLimit } from './rate-limit.ts';
import { DOCS, GithubError, notFound, parseBody, sendJson, type GithubContext, type GithubRoute } from './reply.ts';
import { repoRoutes } from './repos.ts';
import { GithubState, type Account, type Issue, type NewRepo, type Visibility } from './state.ts';

export type { GithubFault } from './faults.ts';
export type { Account, Issue, IssueComment, NewRepo, Visibility } from './state.ts';
export { TOKEN_OWNER } from './shapes.ts';

/** The default token. Deliberately not `ghs_…`-shaped, so secret scanners leave the fixture alone. */
export const FAKE_GITHUB_TOKEN = 'fake-github-installation-token';

export interface FakeGithubOptions {
  /** The one accepted token, sent as `Authorization: token <t>` or `Bearer <t>`. */
  token?: string;
  /** Largest `per_page` honoured; larger values are clamped, as GitHub clamps to 100. Default 100. */
  perPageMax?: number;
  /** Primary rate limit per hour, enforced. Default 15 000 (a GitHub App on Enterprise Cloud). */
  rateLimit?: number;
}

/** One request as the fake saw it; `query` holds the last value of each parameter. */
export interface GithubRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface BulkSeed {
  actors: Account[];
  repos: { id: number; name: string; full_name: string }[];
}

export interface FakeGithub {
  /** `http://127.0.0.1:PORT`: octokit's `baseUrl`. */
  url: string;
  token: string;
  /** Every request received, in arrival order, refused ones included. */
  requests: GithubRequest[];
  addOrg(login: string, id: number): void;
  addMember(org: string, member: Account & { role?: 'admin' | 'member' }): void;
  removeMember(org: string, login: string): void;
  addRepo(repo: NewRepo): void;
  archiveRepo(id: number): void;
  setVisibility(id: number, visibility: Visibility): void;
  /** The id path shows `newOwner`; the old name redirects to the id path (see `repos.ts`). */
  transferRepo(id: number, newOwner: Account): void;
  /** Both paths answer 404 afterwards. */
  deleteRepo(id: number): void;
  /** Adds `actors` members and `repos` repositories to `org` (created if missing), fresh ids each call. */
  seedBulk(actors: number, repos: number, org: string): BulkSeed;
  /** The issues filed on a repository, oldest first, with their comments. */
  issues(repoId: number): readonly Issue[];
  injectFault(fault: GithubFault): void;
  clearFaults(): void;
  /** The primary limit's counters; `resetRateLimit` starts a fresh window. */
  rateLimit(): { limit: number; used: number; remaining: number; reset: number };
  resetRateLimit(): void;
  close(): Promise<void>;
}

const ROUTES: readonly GithubRoute[] = [...orgRoutes, ...repoRoutes];

interface Shared {
  state: GithubState;
  token: string;
  perPageMax: number;
  rate: RateLimit;
  faults: FaultQueue;
  requests: GithubRequest[];
  base: string;
}

/** `startFakeGithub` listens on 127.0.0.1:0 and resolves once the fake accepts connections. */
export async function startFakeGithub(opts: FakeGithubOptions = {}): Promise<FakeGithub> {
  const state = new GithubState();
  const shared: Shared = {
    state,
    token: opts.token ?? FAKE_GITHUB_TOKEN,
    perPageMax: opts.perPageMax ?? 100,
    rate: new RateLimit(opts.rateLimit ?? 15_000),
    faults: new FaultQueue(),
    requests: [],
    base: '',
  };
  const server = createServer((req, res) => void handle(req, res, shared));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  shared.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let nextBulkId = 10_000_000;

  return {
    url: shared.base,
    token: shared.token,
    requests: shared.requests,
    addOrg: (login, id) => void state.addOrg(login, id),
    addMember: (org, member) => state.addMember(org, member),
    removeMember: (org, login) => state.removeMember(org, login),
    addRepo: (repo) => void state.addRepo(repo),
    archiveRepo: (id) => void (state.requireRepo(id).archived = true),
    setVisibility: (id, visibility) => void (state.requireRepo(id).visibility = visibility),
    transferRepo: (id, newOwner) => state.transferRepo(id, newOwner),
    deleteRepo: (id) => state.deleteRepo(id),
    seedBulk: (actors, repos, orgLogin) => {
      const org = state.org(orgLogin) ?? state.addOrg(orgLogin, nextBulkId++);
      const seed: BulkSeed = { actors: [], repos: [] };
      for (let i = 0; i < actors; i++) {
        const actor = { login: `actor-${nextBulkId}`, id: nextBulkId++ };
        state.addMember(org.login, actor);
        seed.actors.push(actor);
      }
      for (let i = 0; i < repos; i++) {
        const repo = state.addRepo({ id: nextBulkId, name: `repo-${nextBulkId++}`, owner: org });
        seed.repos.push({ id: repo.id, name: repo.name, full_name: `${org.login}/${repo.name}` });
      }
      return seed;
    },
    issues: (repoId) => state.issuesOf(repoId),
    injectFault: (fault) => shared.faults.push(fault),
    clearFaults: () => shared.faults.clear(),
    rateLimit: () => shared.rate.snapshot(),
    resetRateLimit: () => shared.rate.reset(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // octokit keeps connections alive; close them or `close` waits for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, shared: Shared): Promise<void> {
  const url = new URL(req.url ?? '/', shared.base);
  const method = req.method ?? 'GET';
  shared.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams) });
  const requestId = githubRequestId();
  res.setHeader('x-github-request-id', requestId);
  const ctx: GithubContext = {
    req,
    res,
    method,
    path: url.pathname,
    query: url.searchParams,
    body: {},
    base: shared.base,
    state: shared.state,
    perPageMax: shared.perPageMax,
    requestId,
    rateHeaders: shared.rate.headers(),
  };
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    serve(ctx, shared, Buffer.concat(chunks));
  } catch (error) {
    replyWithError(ctx, error);
  }
}

function serve(ctx: GithubContext, shared: Shared, rawBody: Buffer): void {
  authenticate(ctx, shared.token);
  ctx.body = parseBody(rawBody);
  if (ctx.method === 'GET' && ctx.path === '/rate_limit') {
    // Free, as on GitHub: asking how much budget is left does not spend any.
    const core = shared.rate.snapshot();
    sendJson(ctx, 200, { resources: { core, search: { limit: 30, used: 0, remaining: 30, reset: core.reset } }, rate: core });
    return;
  }
  ctx.rateHeaders = shared.rate.consume();
  const fault = shared.faults.take(ctx.method, ctx.path);
  if (fault?.kind === 'reset') {
    ctx.req.socket.resetAndDestroy();
    return;
  }
  if (fault?.kind === 'empty-members') {
    sendJson(ctx, 200, []);
    return;
  }
  if (fault) throw faultError(fault, ctx.requestId);
  for (const route of ROUTES) {
    const match = route.pattern.exec(ctx.path);
    if (!match || (route.method !== '*' && route.method !== ctx.method)) continue;
    route.handle(ctx, match.slice(1).map((p) => decodeURIComponent(p ?? '')));
    return;
  }
  throw notFound();
}

function authenticate(ctx: GithubContext, token: string): void {
  const header = ctx.req.headers.authorization;
  if (header === undefined) throw new GithubError(401, 'Requires authentication');
  const presented = /^(?:token|bearer)\s+(\S+)$/i.exec(header)?.[1];
  if (presented !== token) throw new GithubError(401, 'Bad credentials');
}

/** GitHub's `x-github-request-id` looks like `C0DE:1F2E3D:4A5B6C:7D8E9F:65A1B2C3`. */
function githubRequestId(): string {
  return randomBytes(10).toString('hex').toUpperCase().match(/.{4}/g)?.join(':') ?? 'FAKE';
}

/** The one place errors become HTTP: GitHub's `{message, documentation_url, status}` body. */
function replyWithError(ctx: GithubContext, error: unknown): void {
  if (ctx.res.headersSent || ctx.res.destroyed) {
    ctx.res.destroy();
    return;
  }
  if (!(error instanceof GithubError)) {
    console.error('fake github: unexpected error', error);
    sendJson(ctx, 500, { message: 'Server Error', documentation_url: DOCS, status: '500' });
    return;
  }
  const status = error.status >= 400 ? { status: String(error.status) } : {};
  const body = { message: error.message, ...error.extra, documentation_url: error.documentationUrl, ...status };
  sendJson(ctx, error.status, body, error.headers);
}
