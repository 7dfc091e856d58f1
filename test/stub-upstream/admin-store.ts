/**
 * The Admin API's memory (§4, §8): organisation, workspaces, users, API keys and a usage ledger.
 * Tests reach it as `stub.admin`; routes in `admin.ts` and `admin-usage.ts` read and change it.
 *
 * Keys and the stub's own authentication are tied together, so a reconciler test is end to end:
 * `registerApiKey(id, secret)` makes `secret` an accepted upstream key (while the key is active)
 * and attributes its `/v1/messages` usage to `id`; deactivating or archiving the key through the
 * API stops the stub accepting that secret, as Anthropic would. `setApiKeys` on the stub replaces
 * the accepted list wholesale and wins over both.
 */
import { ADMIN_SEED, seedSecret } from './admin-seed.ts';
import type { StubSettings } from './context.ts';
import { invalidRequest, notFound } from './errors.ts';
import { DAY_MS, newId } from './ids.ts';

export type UserRole = 'user' | 'developer' | 'billing' | 'admin' | 'claude_code_user';
export type ApiKeyStatus = 'active' | 'inactive' | 'archived' | 'expired';
/** `classic`: `workspace_id` (§4.2); `scoped`: the 2026 shape with `principal` and `scope` (SDK 1.14). */
export type ApiKeyShape = 'classic' | 'scoped';

export interface AdminUser {
  id: string;
  type: 'user';
  email: string;
  name: string;
  role: UserRole;
  added_at: string;
}

export type Actor = { type: 'user_actor'; user_id: string } | { type: 'service_account_actor'; service_account_id: string };

export interface AdminApiKey {
  id: string;
  name: string;
  /** `null` is the default workspace. */
  workspaceId: string | null;
  createdAt: string;
  createdBy: { id: string; type: 'user' | 'service_account' } | null;
  expiresAt: string | null;
  status: ApiKeyStatus;
  partialKeyHint: string;
  principal: Actor | null;
}

export type NewApiKey = Partial<Omit<AdminApiKey, 'partialKeyHint'>> & { name: string; secret?: string };

/** One `/v1/messages` reply's usage, or one a test planted with `addUsage`. */
export interface UsageEntry {
  at: number;
  apiKeyId: string | null;
  workspaceId: string | null;
  model: string;
  uncachedInputTokens: number;
  cacheReadInputTokens: number;
  cacheCreation5mTokens: number;
  cacheCreation1hTokens: number;
  outputTokens: number;
  webSearchRequests: number;
}

export type NewUsage = Partial<Omit<UsageEntry, 'at'>> & { at: number | string | Date; apiKeyId: string | null };

export interface Workspace {
  id: string;
  name: string;
  created_at: string;
  archived_at: string | null;
}

/** `partialKeyHint` is how the Console shows a key: `sk-ant-api03-R2D...igAA`. */
const hintOf = (secret: string) => `${secret.slice(0, 16)}...${secret.slice(-4)}`;
const past = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();

export class AdminStore {
  readonly organization = { id: ADMIN_SEED.organization.id, type: 'organization' as const, name: ADMIN_SEED.organization.name };
  readonly seed = ADMIN_SEED;
  readonly workspaces: Workspace[] = [];
  readonly users: AdminUser[] = [];
  readonly apiKeys: AdminApiKey[] = [];
  readonly usage: UsageEntry[] = [];
  keyShape: ApiKeyShape = 'classic';
  /** Registered secret → key id; a secret maps to one key, a key may have had several secrets. */
  private readonly secrets = new Map<string, string>();

  constructor(
    private readonly settings: StubSettings,
    upstreamSecret: string,
  ) {
    seed(this, upstreamSecret);
  }

  addUser(user: Partial<AdminUser> & { email: string }): AdminUser {
    const stored: AdminUser = { id: newId('user'), type: 'user', name: user.email.split('@')[0] ?? '', role: 'user', added_at: new Date().toISOString(), ...user };
    this.users.push(stored);
    return stored;
  }

  /** Keys the user created stay, still naming them in `created_by`: the reconciler's case. */
  deleteUser(id: string): void {
    const index = this.users.findIndex((u) => u.id === id);
    if (index === -1) throw notFound(`User not found: ${id}`);
    this.users.splice(index, 1);
  }

  user(id: string): AdminUser {
    const user = this.users.find((u) => u.id === id);
    if (!user) throw notFound(`User not found: ${id}`);
    return user;
  }

  addWorkspace(workspace: Partial<Workspace> & { name: string }): Workspace {
    const stored: Workspace = { id: newId('wrkspc'), created_at: new Date().toISOString(), archived_at: null, ...workspace };
    this.workspaces.push(stored);
    return stored;
  }

  addApiKey({ secret, ...key }: NewApiKey): AdminApiKey {
    const stored: AdminApiKey = {
      id: newId('apikey'),
      workspaceId: null,
      createdAt: new Date().toISOString(),
      createdBy: null,
      expiresAt: null,
      status: 'active',
      principal: null,
      ...key,
      partialKeyHint: hintOf(secret ?? seedSecret(key.name.toLowerCase().replace(/\W+/g, '-'))),
    };
    this.apiKeys.push(stored);
    if (secret !== undefined) this.registerApiKey(stored.id, secret);
    return stored;
  }

  apiKey(id: string): AdminApiKey {
    const key = this.apiKeys.find((k) => k.id === id);
    if (!key) throw notFound(`API key not found: ${id}`);
    return key;
  }

  /** `registerApiKey` ties a standard key the stub accepts to an Admin API key id (see top). */
  registerApiKey(id: string, secret: string): void {
    this.attribute(id, secret);
    if (this.apiKey(id).status === 'active') this.accept(secret, true);
  }

  /**
   * `attribute` maps a secret to a key for usage metering only, leaving the accepted keys alone:
   * the seed uses it for STUB_API_KEY so a stub started with other `apiKeys` still refuses it.
   */
  attribute(id: string, secret: string): void {
    this.apiKey(id).partialKeyHint = hintOf(secret);
    this.secrets.set(secret, id);
  }

  /** `keyIdFor` names the Admin API key a presented secret belongs to; `null` when unregistered. */
  keyIdFor(secret: string | undefined): string | null {
    return secret === undefined ? null : (this.secrets.get(secret) ?? null);
  }

  /** `setStatus` is the update endpoint's rule: `expired` is read-only and archived is final. */
  setStatus(id: string, status: unknown): AdminApiKey {
    const key = this.apiKey(id);
    if (status !== 'active' && status !== 'inactive' && status !== 'archived') {
      throw invalidRequest("status: Input should be 'active', 'inactive' or 'archived'");
    }
    if (key.status === 'archived' && status !== 'archived') throw invalidRequest('Archived API keys cannot be updated');
    if (key.status === 'expired' && status === 'active') throw invalidRequest('Expired API keys cannot be reactivated');
    key.status = status;
    for (const [secret, keyId] of this.secrets) if (keyId === id) this.accept(secret, status === 'active');
    return key;
  }

  /** `addUsage` plants usage, e.g. a key last used 90 days ago. */
  addUsage(entry: NewUsage): void {
    const { at, apiKeyId, ...rest } = entry;
    const workspaceId = apiKeyId === null ? null : (this.apiKeys.find((k) => k.id === apiKeyId)?.workspaceId ?? null);
    this.usage.push({
      workspaceId,
      model: 'claude-sonnet-5',
      uncachedInputTokens: 0,
      cacheReadInputTokens: 0,
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 0,
      outputTokens: 0,
      webSearchRequests: 0,
      ...rest,
      apiKeyId,
      at: new Date(at).getTime(),
    });
  }

  private accept(secret: string, accepted: boolean): void {
    const keys = this.settings.apiKeys;
    const index = keys.indexOf(secret);
    if (accepted && index === -1) keys.push(secret);
    if (!accepted && index !== -1) keys.splice(index, 1);
  }
}

function seed(store: AdminStore, upstreamSecret: string): void {
  const { workspaces: ws, users, apiKeys: ids, serviceAccount } = ADMIN_SEED;
  store.addWorkspace({ id: ws.ci, name: 'CI', created_at: past(400) });
  store.addWorkspace({ id: ws.research, name: 'Research', created_at: past(300) });
  store.addWorkspace({ id: ws.archived, name: 'Old experiments', created_at: past(500), archived_at: past(100) });
  store.addUser({ id: users.alice, email: 'alice@stub.example', name: 'Alice Admin', role: 'admin', added_at: past(400) });
  store.addUser({ id: users.bob, email: 'bob@stub.example', name: 'Bob Developer', role: 'developer', added_at: past(300) });
  store.addUser({ id: users.carol, email: 'carol@stub.example', name: 'Carol User', role: 'user', added_at: past(200) });

  const by = (id: string) => ({ id, type: 'user' as const });
  store.addApiKey({ id: ids.upstream, name: 'skillgate upstream', workspaceId: ws.ci, createdBy: by(users.alice), createdAt: past(90) });
  store.attribute(ids.upstream, upstreamSecret);
  store.addApiKey({ id: ids.bob, name: 'bob laptop', createdBy: by(users.bob), createdAt: past(60) });
  store.addApiKey({ id: ids.carolExpired, name: 'carol trial', workspaceId: ws.ci, createdBy: by(users.carol), createdAt: past(120), expiresAt: past(30), status: 'expired' });
  store.addApiKey({ id: ids.daveOrphan, name: 'dave ci', workspaceId: ws.ci, createdBy: by(users.dave), createdAt: past(200) });
  store.addApiKey({
    id: ids.daveResearch,
    name: 'dave notebooks',
    workspaceId: ws.research,
    createdBy: by(users.dave),
    principal: { type: 'user_actor', user_id: users.dave },
    createdAt: past(150),
  });
  store.addApiKey({ id: ids.erinInactive, name: 'erin old', createdBy: by(users.erin), createdAt: past(250), status: 'inactive' });
  store.addApiKey({ id: ids.bobArchived, name: 'bob retired', workspaceId: ws.research, createdBy: by(users.bob), createdAt: past(280), status: 'archived' });
  store.addApiKey({
    id: ids.serviceAccount,
    name: 'deploy bot',
    workspaceId: ws.ci,
    createdBy: { id: serviceAccount, type: 'service_account' },
    principal: { type: 'service_account_actor', service_account_id: serviceAccount },
    createdAt: past(100),
  });
}
