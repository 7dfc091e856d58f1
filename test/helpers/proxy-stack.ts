// The usual rig for proxy tests: a GitHub-shaped issuer, the stub Anthropic upstream, a broker whose
// upstream is that stub (real key from an env: reference), and one skillgate token minted for it.
import { DEFAULT_POLICIES, startBroker, type BrokerOptions, type TestBroker } from './broker.ts';
import { startOidcIssuer, type OidcIssuer } from './oidc-issuer.ts';
import { startStubUpstream, STUB_API_KEY, type StubUpstream, type StubUpstreamOptions } from '../stub-upstream/server.ts';

/** The grant most proxy tests need: messages and models on claude-sonnet-5, custom tools. */
export const PROXY_POLICIES = [
  {
    ...DEFAULT_POLICIES[0],
    grant: { scopes: ['messages:create', 'models:read'], models: ['claude-sonnet-5*'], max_tokens: 4096, tools: { custom: 'allow' }, ttl: '15m' },
  },
];

export interface ProxyStack {
  issuer: OidcIssuer;
  stub: StubUpstream;
  broker: TestBroker;
  /** A live skillgate token for the default claims. */
  token: string;
  /** Mints another token (for revocation and isolation tests); `exchange` adds body fields such as scope. */
  mint(claims?: Record<string, unknown>, exchange?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

let stacks = 0;

/** `startProxyStack` starts the three servers and mints a token; `close` stops them in reverse. */
export async function startProxyStack(opts: { policies?: unknown[]; stub?: StubUpstreamOptions; broker?: Omit<BrokerOptions, 'issuerUrl' | 'policies'>; upstream?: Record<string, unknown> } = {}): Promise<ProxyStack> {
  const issuer = await startOidcIssuer();
  const stub = await startStubUpstream(opts.stub);
  // Each stack names its own variable, so stacks in one worker never share a key by accident.
  const keyVar = `PROXY_STACK_KEY_${process.pid}_${++stacks}`;
  process.env[keyVar] = STUB_API_KEY;
  const broker = await startBroker({
    ...opts.broker,
    issuerUrl: issuer.url,
    policies: opts.policies ?? PROXY_POLICIES,
    config: { ...opts.broker?.config, upstream: { base_url: stub.url, credential: `env:${keyVar}`, ...opts.upstream } },
  });
  const mint = async (claims: Record<string, unknown> = {}, exchange: Record<string, unknown> = {}) => {
    const { status, body } = await broker.exchange(await issuer.sign(issuer.githubClaims(claims)), exchange);
    if (status !== 200) throw new Error(`exchange failed: ${JSON.stringify(body)}`);
    return String(body['access_token']);
  };
  return {
    issuer,
    stub,
    broker,
    token: await mint(),
    mint,
    close: async () => {
      await broker.close();
      await stub.close();
      await issuer.close();
      delete process.env[keyVar];
    },
  };
}
