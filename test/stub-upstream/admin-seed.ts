/**
 * The organisation every stub starts with: the situations a key reconciler must tell apart
 * (§4.2 recipe). Ids are fixed so tests can name them; each one is Anthropic-shaped
 * (`<prefix>_01` + 24 base62 characters).
 *
 *   upstream        alice (live admin), CI workspace, active — its secret is STUB_API_KEY, so the
 *                   stub's own traffic is metered against it
 *   bob             bob (live), default workspace (`workspace_id: null`), active
 *   carolExpired    carol (live), CI workspace, expired
 *   daveOrphan      dave (deleted), CI workspace, active          ← offboarded owner
 *   daveResearch    dave (deleted), Research workspace, active, principal dave ← offboarded owner
 *   erinInactive    erin (deleted), default workspace, inactive    ← already handled
 *   bobArchived     bob (live), Research workspace, archived
 *   serviceAccount  a service account, CI workspace, active        ← not a user: never orphaned
 */
const fixedId = (prefix: string, tag: string) => `${prefix}_01${tag.padEnd(24, '0')}`;

export const ADMIN_SEED = {
  organization: { id: '5e0c8f3a-7b1d-4c2e-9a6f-00000000stub', name: 'Stub Organization' },
  workspaces: {
    /** The default workspace: keys in it show `workspace_id: null` in the classic shape. */
    default: fixedId('wrkspc', 'StubDefault'),
    ci: fixedId('wrkspc', 'StubCi'),
    research: fixedId('wrkspc', 'StubResearch'),
    archived: fixedId('wrkspc', 'StubArchived'),
  },
  users: {
    alice: fixedId('user', 'StubAlice'),
    bob: fixedId('user', 'StubBob'),
    carol: fixedId('user', 'StubCarol'),
    /** Deleted before the stub started: absent from the users list, still `created_by` of keys. */
    dave: fixedId('user', 'StubDaveDeleted'),
    erin: fixedId('user', 'StubErinDeleted'),
  },
  serviceAccount: fixedId('svac', 'StubDeployBot'),
  apiKeys: {
    upstream: fixedId('apikey', 'StubUpstream'),
    bob: fixedId('apikey', 'StubBob'),
    carolExpired: fixedId('apikey', 'StubCarolExpired'),
    daveOrphan: fixedId('apikey', 'StubDaveOrphan'),
    daveResearch: fixedId('apikey', 'StubDaveResearch'),
    erinInactive: fixedId('apikey', 'StubErinInactive'),
    bobArchived: fixedId('apikey', 'StubBobArchived'),
    serviceAccount: fixedId('apikey', 'StubServiceAccount'),
  },
} as const;

/** `seedSecret` is a placeholder secret for a seeded key, used only for its `partial_key_hint`. */
export const seedSecret = (name: string) => `sk-ant-api03-stub-${name}-${'0'.repeat(24)}`;
