/**
 * What one fake GitHub remembers: organisations with their members, repositories and their
 * issues. Plain maps keyed by lower-case names, because GitHub logins and repository names are
 * case-insensitive and the benchmark seeds thousands of each.
 */

export interface Account {
  login: string;
  id: number;
}

export interface Member extends Account {
  role: 'admin' | 'member';
}

export interface Org extends Account {
  /** Insertion order is listing order, so pages are stable while nothing changes. */
  members: Map<string, Member>;
}

export type Visibility = 'public' | 'private' | 'internal';

export interface Repo {
  id: number;
  name: string;
  owner: Account;
  archived: boolean;
  visibility: Visibility;
  createdAt: string;
}

export interface Issue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: string[];
  comments: IssueComment[];
  createdAt: string;
  updatedAt: string;
}

export interface IssueComment {
  id: number;
  body: string;
  createdAt: string;
}

export interface NewRepo {
  id: number;
  name: string;
  owner: Account;
  archived?: boolean;
  visibility?: Visibility;
}

const key = (login: string) => login.toLowerCase();
const fullNameKey = (owner: string, name: string) => `${key(owner)}/${key(name)}`;

/** `GithubState` holds the fake's data; route handlers and the test-facing helpers share it. */
export class GithubState {
  readonly orgs = new Map<string, Org>();
  readonly repos = new Map<number, Repo>();
  readonly issues = new Map<number, Issue[]>();
  /** `owner/name` (lower-case) of every live repository → its id. */
  private readonly byName = new Map<string, number>();
  /** Names a repository used to have before a transfer; GitHub redirects these. */
  private readonly formerNames = new Map<string, number>();
  private nextIssueId = 1;

  addOrg(login: string, id: number): Org {
    const org: Org = { login, id, members: new Map() };
    this.orgs.set(key(login), org);
    return org;
  }

  org(login: string): Org | undefined {
    return this.orgs.get(key(login));
  }

  orgById(id: number): Org | undefined {
    for (const org of this.orgs.values()) if (org.id === id) return org;
    return undefined;
  }

  addMember(orgLogin: string, member: Account & { role?: Member['role'] }): void {
    const org = this.requireOrg(orgLogin);
    org.members.set(key(member.login), { login: member.login, id: member.id, role: member.role ?? 'member' });
  }

  removeMember(orgLogin: string, login: string): void {
    this.requireOrg(orgLogin).members.delete(key(login));
  }

  addRepo(repo: NewRepo): Repo {
    const stored: Repo = {
      id: repo.id,
      name: repo.name,
      owner: { login: repo.owner.login, id: repo.owner.id },
      archived: repo.archived ?? false,
      visibility: repo.visibility ?? 'private',
      createdAt: new Date().toISOString(),
    };
    this.repos.set(stored.id, stored);
    this.byName.set(fullNameKey(stored.owner.login, stored.name), stored.id);
    return stored;
  }

  /** `repoByName` finds a live repository; `moved` is set when the name is a pre-transfer one. */
  repoByName(owner: string, name: string): { repo: Repo; moved: boolean } | undefined {
    const current = this.byName.get(fullNameKey(owner, name));
    if (current !== undefined) return { repo: this.requireRepo(current), moved: false };
    const former = this.formerNames.get(fullNameKey(owner, name));
    const repo = former === undefined ? undefined : this.repos.get(former);
    return repo ? { repo, moved: true } : undefined;
  }

  requireRepo(id: number): Repo {
    const repo = this.repos.get(id);
    if (!repo) throw new Error(`fake github: no repository ${id}`);
    return repo;
  }

  transferRepo(id: number, newOwner: Account): void {
    const repo = this.requireRepo(id);
    const oldName = fullNameKey(repo.owner.login, repo.name);
    this.byName.delete(oldName);
    this.formerNames.set(oldName, id);
    repo.owner = { login: newOwner.login, id: newOwner.id };
    this.byName.set(fullNameKey(repo.owner.login, repo.name), id);
  }

  deleteRepo(id: number): void {
    const repo = this.requireRepo(id);
    this.repos.delete(id);
    this.issues.delete(id);
    this.byName.delete(fullNameKey(repo.owner.login, repo.name));
    for (const [name, formerId] of this.formerNames) if (formerId === id) this.formerNames.delete(name);
  }

  issuesOf(repoId: number): Issue[] {
    let list = this.issues.get(repoId);
    if (!list) {
      list = [];
      this.issues.set(repoId, list);
    }
    return list;
  }

  addIssue(repoId: number, fields: Pick<Issue, 'title' | 'body' | 'labels'>): Issue {
    const list = this.issuesOf(repoId);
    const now = new Date().toISOString();
    const issue: Issue = { ...fields, id: this.nextIssueId++, number: list.length + 1, state: 'open', comments: [], createdAt: now, updatedAt: now };
    list.push(issue);
    return issue;
  }

  addComment(issue: Issue, body: string): IssueComment {
    const comment = { id: this.nextIssueId++, body, createdAt: new Date().toISOString() };
    issue.comments.push(comment);
    issue.updatedAt = comment.createdAt;
    return comment;
  }

  private requireOrg(login: string): Org {
    const org = this.org(login);
    if (!org) throw new Error(`fake github: no organisation ${login}`);
    return org;
  }
}
