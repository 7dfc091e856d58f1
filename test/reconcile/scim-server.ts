// A SCIM 2.0 directory on 127.0.0.1 (RFC 7644 /Users with startIndex/count paging and a bearer
// token): the identity provider the reconciler asks who still has an account.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScimUser {
  id: string;
  userName: string;
  active: boolean;
  emails?: { value: string; primary?: boolean }[];
}

export interface ScimServer {
  /** Base URL, e.g. http://127.0.0.1:PORT/scim/v2 */
  url: string;
  token: string;
  users: ScimUser[];
  /** Every request's path and query. */
  requests: string[];
  /** Answer the next requests with this status instead. */
  failWith?: number;
  close(): Promise<void>;
}

const PAGE_MAX = 100;

export async function startScimServer(users: ScimUser[] = []): Promise<ScimServer> {
  const state: ScimServer = { url: '', token: 'scim-test-token', users, requests: [], close: async () => undefined };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://scim.test');
    state.requests.push(`${url.pathname}${url.search}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/scim+json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${state.token}`) return send(401, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    if (state.failWith !== undefined) return send(state.failWith, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(state.failWith) });
    if (url.pathname !== '/scim/v2/Users') return send(404, { status: '404' });
    const start = Math.max(1, Number(url.searchParams.get('startIndex') ?? 1));
    const count = Math.min(PAGE_MAX, Number(url.searchParams.get('count') ?? PAGE_MAX));
    const page = state.users.slice(start - 1, start - 1 + count);
    send(200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: state.users.length, startIndex: start, itemsPerPage: page.length, Resources: page });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
  state.close = () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return state;
}

/** `scimUser` builds an account named by its email. */
export function scimUser(email: string, active = true): ScimUser {
  return { id: `u-${email}`, userName: email, active, emails: [{ value: email, primary: true }] };
}
