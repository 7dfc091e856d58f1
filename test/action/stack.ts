// Everything the Action talks to, on 127.0.0.1: a GitHub-shaped OIDC issuer (which also serves the
// runner's ID-token endpoint), the stub Anthropic upstream, and a real broker proxying to the stub.
// Shared by the Action tests and `npm run demo`.
import { createServer, type AddressInfo } from 'node:net';
import { DEFAULT_POLICIES, startBroker, TEST_AUDIENCE, type TestBroker } from '../helpers/broker.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, STUB_ECHO_SECRET, type StubUpstream } from '../stub-upstream/server.ts';

export { TEST_AUDIENCE };

/** The model the grant admits, and one it does not. */
export const ALLOWED_MODEL = 'claude-sonnet-5';
export const DENIED_MODEL = 'claude-opus-5';

/** The issuer's default job (octo-org/octo-repo on main), granted Sonnet 5 models and custom tools. */
export const ACTION_POLICIES = [
  {
    ...DEFAULT_POLICIES[0],
    grant: {
      scopes: ['messages:create', 'models:read', 'skills:read'],
      models: ['claude-sonnet-5*'],
      max_tokens: 4096,
      tools: { custom: 'allow' },
      ttl: '15m',
    },
  },
];

const UPSTREAM_KEY_ENV = 'SKILLGATE_ACTION_TEST_UPSTREAM_KEY';

export interface Stack {
  issuer: OidcIssuer;
  stub: StubUpstream;
  broker: TestBroker;
  /** ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN of a job with `id-token: write`. */
  idTokenRequest: { url: string; token: string };
  close(): Promise<void>;
}

/** `startStack` starts issuer, stub upstream and broker (SQLite in a temp folder). */
export async function startStack(opts: { policies?: unknown[] } = {}): Promise<Stack> {
  const issuer = await startOidcIssuer();
  const stub = await startStubUpstream({ echoSecret: STUB_ECHO_SECRET });
  process.env[UPSTREAM_KEY_ENV] = STUB_API_KEY;
  const broker = await startBroker({
    issuerUrl: issuer.url,
    policies: opts.policies ?? ACTION_POLICIES,
    config: { upstream: { base_url: stub.url, credential: `env:${UPSTREAM_KEY_ENV}` } },
    logLevel: 'info',
  });
  return {
    issuer,
    stub,
    broker,
    idTokenRequest: { url: issuer.requestUrl, token: issuer.requestToken },
    close: async () => {
      await broker.close();
      await stub.close();
      await issuer.close();
    },
  };
}

/** `closedPortUrl` returns a URL on which nothing listens: a port the OS gave out and took back. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
