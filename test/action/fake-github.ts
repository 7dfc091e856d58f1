// A fake GitHub REST API on 127.0.0.1:0, just the issue-comment routes the post step uses, so the
// real Octokit (through @actions/github) is what talks to it.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
}

export interface FakeGithub {
  url: string;
  comments: FakeComment[];
  requests: { method: string; path: string; authorization: string | undefined }[];
  /** Answer every request with this status (403: a read-only token). */
  setFailure(status: number | undefined): void;
  addComment(issue: number, body: string, user?: FakeComment['user']): FakeComment;
  close(): Promise<void>;
}

const BOT = { login: 'github-actions[bot]', type: 'Bot' } as const;

/** `startFakeGithub` serves list/create/update of issue comments for `repository`, for `token` only. */
export async function startFakeGithub(opts: { repository: string; token: string }): Promise<FakeGithub> {
  const comments: FakeComment[] = [];
  const requests: FakeGithub['requests'] = [];
  let failure: number | undefined;
  let nextId = 1000;
  const prefix = `/repos/${opts.repository}/issues/`;

  const server = createServer((req, res) => void handle(req, res).catch(() => send(res, 500, { message: 'fake github failed' })));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? '', path: pathname, authorization: req.headers.authorization });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (failure !== undefined) return send(res, failure, { message: 'Resource not accessible by integration' });
    if (req.headers.authorization !== `token ${opts.token}` && req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, { message: 'Bad credentials' });
    if (!pathname.startsWith(prefix)) return send(res, 404, { message: 'Not Found' });
    const rest = pathname.slice(prefix.length);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as { body?: string }) : {};
    const list = /^(\d+)\/comments$/.exec(rest);
    if (list && req.method === 'GET') return send(res, 200, comments.filter((c) => c.issue === Number(list[1])).map(view));
    if (list && req.method === 'POST') return send(res, 201, view(addComment(Number(list[1]), body.body ?? '')));
    const one = /^comments\/(\d+)$/.exec(rest);
    const existing = one ? comments.find((c) => c.id === Number(one[1])) : undefined;
    if (existing && req.method === 'PATCH') {
      existing.body = body.body ?? '';
      return send(res, 200, view(existing));
    }
    send(res, 404, { message: 'Not Found' });
  }

  function addComment(issue: number, text: string, user: FakeComment['user'] = BOT): FakeComment {
    const comment = { id: nextId++, issue, body: text, user };
    comments.push(comment);
    return comment;
  }
  const view = (c: FakeComment) => ({ id: c.id, body: c.body, user: c.user, html_url: `https://github.com/${opts.repository}/pull/${c.issue}#issuecomment-${c.id}` });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    comments,
    requests,
    setFailure: (status) => void (failure = status),
    addComment,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}
