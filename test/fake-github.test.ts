// The fake GitHub REST API, driven by the real @octokit/rest with the throttling and retry plugins
// the reconciler uses, so the fake is checked against the client's own reading of GitHub.
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from './fake-github/server.ts';

const ORG = 'acme';
const ORG_ID = 4_001;
const Client = Octokit.plugin(throttling, retry);
/** octokit logs every non-2xx through `log.error`; the faults here are on purpose. */
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface LimitCall {
  kind: 'primary' | 'secondary';
  retryAfter: number;
  retryCount: number;
}

/** A client as the reconciler builds one, with waits shrunk: 1 s of `retry-after` is 1 ms here. */
function client(target: FakeGithub, opts: { token?: string; retryLimits?: boolean } = {}) {
  const calls: LimitCall[] = [];
  const onLimit = (kind: LimitCall['kind']) => (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
    calls.push({ kind, retryAfter, retryCount });
    return (opts.retryLimits ?? true) && retryCount < 2;
  };
  const octokit = new Client({
    auth: opts.token ?? target.token,
    baseUrl: target.url,
    log: quiet,
    throttle: { onRateLimit: onLimit('primary'), onSecondaryRateLimit: onLimit('secondary'), retryAfterBaseValue: 1 },
    retry: { retryAfterBaseValue: 1 },
  });
  return { octokit, calls };
}

/** Plain octokit for writes: the throttling plugin spaces writes a full second apart. */
function writer(target: FakeGithub): Octokit {
  return new Octokit({ auth: target.token, baseUrl: target.url, log: quiet });
}

async function withFake<T>(opts: FakeGithubOptions, run: (fake: FakeGithub) => Promise<T>): Promise<T> {
  const own = await startFakeGithub(opts);
  try {
    return await run(own);
  } finally {
    await own.close();
  }
}

let gh: FakeGithub;
beforeAll(async () => {
  gh = await startFakeGithub();
  gh.addOrg(ORG, ORG_ID);
  for (let i = 1; i <= 250; i++) gh.addMember(ORG, { login: `dev-${i}`, id: 100 + i, role: i === 1 ? 'admin' : 'member' });
  gh.addRepo({ id: 1, name: 'service', owner: { login: ORG, id: ORG_ID } });
  gh.addRepo({ id: 2, name: 'legacy', owner: { login: ORG, id: ORG_ID }, visibility: 'internal' });
  gh.archiveRepo(2);
  gh.addRepo({ id: 3, name: 'spun-out', owner: { login: ORG, id: ORG_ID }, visibility: 'public' });
  gh.transferRepo(3, { login: 'spinco', id: 5_001 });
  gh.addRepo({ id: 4, name: 'gone', owner: { login: ORG, id: ORG_ID } });
  gh.deleteRepo(4);
  gh.addRepo({ id: 5, name: 'reports', owner: { login: ORG, id: ORG_ID } });
});
afterAll(() => gh.close());

const since = (from: number) => gh.requests.slice(from);

describe('organisation members', () => {
  it('paginates members one request per page, following GitHub-formatted Link headers', async () => {
    const { octokit } = client(gh);
    const from = gh.requests.length;
    const members = await octokit.paginate(octokit.rest.orgs.listMembers, { org: ORG, per_page: 100 });
    expect(members).toHaveLength(250);
    expect(members[0]).toMatchObject({ login: 'dev-1', id: 101, type: 'User' });
    expect(since(from).map((r) => `${r.path}?${new URLSearchParams(r.query).toString()}`)).toEqual([
      `/orgs/${ORG}/members?per_page=100`,
      `/organizations/${ORG_ID}/members?per_page=100&page=2`,
      `/organizations/${ORG_ID}/members?per_page=100&page=3`,
    ]);
  });

  it('formats Link as GitHub does: prev, next, last, first', async () => {
    const { octokit } = client(gh);
    const middle = await octokit.rest.orgs.listMembers({ org: ORG, per_page: 100, page: 2 });
    const page = (n: number) => `<${gh.url}/organizations/${ORG_ID}/members?per_page=100&page=${n}>`;
    expect(middle.headers.link).toBe(`${page(1)}; rel="prev", ${page(3)}; rel="next", ${page(3)}; rel="last", ${page(1)}; rel="first"`);
    const first = await octokit.rest.orgs.listMembers({ org: ORG, per_page: 100 });
    expect(first.headers.link).toBe(`${page(2)}; rel="next", ${page(3)}; rel="last"`);
    const last = await octokit.rest.orgs.listMembers({ org: ORG, per_page: 100, page: 3 });
    expect(last.headers.link).toBe(`${page(2)}; rel="prev", ${page(1)}; rel="first"`);
  });

  it('clamps per_page to perPageMax and still pages through everything', async () => {
    await withFake({ perPageMax: 10 }, async (own) => {
      own.seedBulk(35, 0, 'small');
      const { octokit } = client(own);
      const members = await octokit.paginate(octokit.rest.orgs.listMembers, { org: 'small', per_page: 100 });
      expect(members).toHaveLength(35);
      expect(own.requests).toHaveLength(4);
    });
  });

  it('answers membership for members, 404 for former members and strangers', async () => {
    const { octokit } = client(gh);
    const admin = await octokit.rest.orgs.getMembershipForUser({ org: ORG, username: 'DEV-1' });
    expect(admin.data).toMatchObject({ state: 'active', role: 'admin', user: { login: 'dev-1', id: 101 }, organization: { login: ORG } });
    gh.addMember(ORG, { login: 'leaver', id: 9_999 });
    gh.removeMember(ORG, 'leaver');
    await expect(octokit.rest.orgs.getMembershipForUser({ org: ORG, username: 'leaver' })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.orgs.listMembers({ org: 'no-such-org' })).rejects.toMatchObject({ status: 404 });
  });

  it('seeds the benchmark population and serves it', async () => {
    await withFake({}, async (own) => {
      const seed = own.seedBulk(2_000, 500, 'bench');
      expect(seed.actors).toHaveLength(2_000);
      expect(seed.repos).toHaveLength(500);
      const { octokit } = client(own);
      const members = await octokit.paginate(octokit.rest.orgs.listMembers, { org: 'bench', per_page: 100 });
      expect(members.map((m) => m.id)).toEqual(seed.actors.map((a) => a.id));
      const repo = seed.repos[499]!;
      const { data } = await octokit.request('GET /repositories/{id}', { id: repo.id });
      expect(data).toMatchObject({ id: repo.id, full_name: repo.full_name, owner: { login: 'bench', type: 'Organization' } });
    });
  });
});

describe('repositories', () => {
  const byId = (id: number) => client(gh).octokit.request('GET /repositories/{id}', { id });

  it('serves a normal repository by id and by name', async () => {
    const { data } = await byId(1);
    expect(data).toMatchObject({ id: 1, name: 'service', full_name: `${ORG}/service`, owner: { login: ORG, id: ORG_ID }, archived: false, visibility: 'private', private: true });
    const byName = await client(gh).octokit.rest.repos.get({ owner: 'ACME', repo: 'Service' });
    expect(byName.data.id).toBe(1);
  });

  it('shows archived and internal repositories as such', async () => {
    const { data } = await byId(2);
    expect(data).toMatchObject({ archived: true, visibility: 'internal', private: true });
    gh.setVisibility(2, 'public');
    expect((await byId(2)).data).toMatchObject({ visibility: 'public', private: false });
    gh.setVisibility(2, 'internal');
  });

  it('shows the new owner of a transferred repository; the old name redirects to the id path', async () => {
    expect((await byId(3)).data).toMatchObject({ id: 3, full_name: 'spinco/spun-out', owner: { login: 'spinco', id: 5_001, type: 'User' } });
    const from = gh.requests.length;
    const old = await client(gh).octokit.rest.repos.get({ owner: ORG, repo: 'spun-out' });
    expect(old.data).toMatchObject({ id: 3, owner: { login: 'spinco' } });
    expect(since(from).map((r) => r.path)).toEqual([`/repos/${ORG}/spun-out`, '/repositories/3']);
  });

  it('answers 404 for a deleted repository under both paths', async () => {
    await expect(byId(4)).rejects.toMatchObject({ status: 404, message: expect.stringContaining('Not Found') });
    await expect(client(gh).octokit.rest.repos.get({ owner: ORG, repo: 'gone' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('issues (revocation reports)', () => {
  it('creates, lists by label and state, comments on and closes an issue', async () => {
    const octokit = writer(gh);
    const created = await octokit.rest.issues.create({ owner: ORG, repo: 'reports', title: 'Revoked 3 tokens', body: 'details', labels: ['skillgate', 'revocation'] });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ number: 1, state: 'open', labels: [{ name: 'skillgate' }, { name: 'revocation' }] });
    await octokit.rest.issues.create({ owner: ORG, repo: 'reports', title: 'Unrelated' });

    const labelled = await octokit.rest.issues.listForRepo({ owner: ORG, repo: 'reports', labels: 'skillgate,revocation', state: 'open' });
    expect(labelled.data.map((i) => i.number)).toEqual([1]);
    const comment = await octokit.rest.issues.createComment({ owner: ORG, repo: 'reports', issue_number: 1, body: 'and 2 more' });
    expect(comment.data).toMatchObject({ body: 'and 2 more', user: { type: 'Bot' } });
    await octokit.rest.issues.update({ owner: ORG, repo: 'reports', issue_number: 1, state: 'closed' });

    const open = await octokit.rest.issues.listForRepo({ owner: ORG, repo: 'reports' });
    expect(open.data.map((i) => i.number)).toEqual([2]);
    const all = await octokit.rest.issues.listForRepo({ owner: ORG, repo: 'reports', state: 'all' });
    expect(all.data.map((i) => i.number)).toEqual([2, 1]);
    expect(gh.issues(5)[0]).toMatchObject({ state: 'closed', comments: [{ body: 'and 2 more' }] });
  });

  it('refuses writes to an archived repository and validates the title', async () => {
    const octokit = writer(gh);
    await expect(octokit.rest.issues.create({ owner: ORG, repo: 'legacy', title: 'x' })).rejects.toMatchObject({ status: 403, message: expect.stringContaining('archived') });
    await expect(octokit.request('POST /repos/{owner}/{repo}/issues', { owner: ORG, repo: 'reports', title: '' })).rejects.toMatchObject({ status: 422 });
  });

  it('repeats a write to a transferred repository at its new home (307)', async () => {
    const from = gh.requests.length;
    const created = await writer(gh).rest.issues.create({ owner: ORG, repo: 'spun-out', title: 'moved' });
    expect(created.data.repository_url).toBe(`${gh.url}/repos/spinco/spun-out`);
    expect(since(from).map((r) => `${r.method} ${r.path}`)).toEqual([`POST /repos/${ORG}/spun-out/issues`, 'POST /repositories/3/issues']);
  });
});

describe('rate limits and faults', () => {
  it('puts x-ratelimit-* on every response and does not count GET /rate_limit', async () => {
    const { octokit } = client(gh);
    const ok = await octokit.rest.repos.get({ owner: ORG, repo: 'service' });
    for (const name of ['limit', 'remaining', 'reset', 'used', 'resource']) expect(ok.headers[`x-ratelimit-${name}`]).toBeDefined();
    const error: unknown = await octokit.request('GET /repositories/{id}', { id: 4 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, response: { headers: { 'x-ratelimit-resource': 'core' } } });
    const before = gh.rateLimit().used;
    const { data } = await octokit.rest.rateLimit.get();
    expect(data.resources.core.used).toBe(before);
    expect(gh.rateLimit().used).toBe(before);
  });

  it('retries a secondary rate limit after retry-after and succeeds', async () => {
    const { octokit, calls } = client(gh);
    gh.injectFault({ kind: 'secondary-rate-limit', path: `/orgs/${ORG}/members` });
    const from = gh.requests.length;
    const { data } = await octokit.rest.orgs.listMembers({ org: ORG, per_page: 5 });
    expect(data).toHaveLength(5);
    expect(calls).toEqual([{ kind: 'secondary', retryAfter: 1, retryCount: 0 }]);
    expect(since(from)).toHaveLength(2);
  });

  it('reports a primary rate limit with its reset, and enforces the configured limit', async () => {
    const { octokit, calls } = client(gh);
    gh.injectFault({ kind: 'primary-rate-limit', status: 429, resetSeconds: 0 });
    await octokit.rest.repos.get({ owner: ORG, repo: 'service' });
    expect(calls).toMatchObject([{ kind: 'primary', retryCount: 0 }]);

    await withFake({ rateLimit: 2 }, async (own) => {
      const limited = client(own, { retryLimits: false });
      own.addOrg(ORG, ORG_ID);
      await limited.octokit.rest.orgs.listMembers({ org: ORG });
      await limited.octokit.rest.orgs.listMembers({ org: ORG });
      const error = await limited.octokit.rest.orgs.listMembers({ org: ORG }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 403, message: expect.stringContaining('API rate limit exceeded') });
      expect((error as { response: { headers: Record<string, string> } }).response.headers['x-ratelimit-remaining']).toBe('0');
      expect(limited.calls).toMatchObject([{ kind: 'primary' }]);
    });
  });

  it.each([500, 502, 503] as const)('retries a %i with plugin-retry until it succeeds', async (status) => {
    const { octokit } = client(gh);
    gh.injectFault({ kind: 'status', status, path: '/repositories/1', times: 2 });
    const from = gh.requests.length;
    const { data } = await octokit.request('GET /repositories/{id}', { id: 1 });
    expect(data.id).toBe(1);
    expect(since(from)).toHaveLength(3);
  });

  it('retries after a connection reset', async () => {
    const { octokit } = client(gh);
    gh.injectFault({ kind: 'reset', method: 'GET', path: /^\/repositories\/1$/ });
    const { data } = await octokit.request('GET /repositories/{id}', { id: 1 });
    expect(data.id).toBe(1);
  });

  it('can answer a members page with an empty list, once', async () => {
    const { octokit } = client(gh);
    gh.injectFault({ kind: 'empty-members', path: `/orgs/${ORG}/members` });
    expect((await octokit.rest.orgs.listMembers({ org: ORG })).data).toEqual([]);
    expect((await octokit.rest.orgs.listMembers({ org: ORG })).data).toHaveLength(30);
  });

  it('refuses a wrong or missing token with 401 and does not retry it', async () => {
    const from = gh.requests.length;
    await expect(client(gh, { token: 'wrong' }).octokit.rest.repos.get({ owner: ORG, repo: 'service' })).rejects.toMatchObject({ status: 401, message: expect.stringContaining('Bad credentials') });
    const anonymous = new Octokit({ baseUrl: gh.url, log: quiet });
    await expect(anonymous.rest.repos.get({ owner: ORG, repo: 'service' })).rejects.toMatchObject({ status: 401, message: expect.stringContaining('Requires authentication') });
    expect(since(from)).toHaveLength(2);
  });

  it('accepts the token as Bearer too', async () => {
    const res = await fetch(`${gh.url}/repositories/1`, { headers: { authorization: `Bearer ${gh.token}` } });
    expect(res.status).toBe(200);
  });
});
