import { StubError, notFound } from './errors.ts';
import { isoAt, newId } from './ids.ts';
import type { VersionDraft } from './skill-upload.ts';
import type { Surface } from './surface.ts';

export interface StoredSkillVersion extends VersionDraft {
  id: string;
  /** Beta version string: epoch microseconds for custom skills, a date for Anthropic's. */
  version: string;
  skillId: string;
  createdAt: string;
}

export interface StoredSkill {
  id: string;
  source: 'custom' | 'anthropic';
  title: string;
  createdAt: string;
  updatedAt: string;
  /** Oldest first; the last one is `latest`. */
  versions: StoredSkillVersion[];
}

const ANTHROPIC_SKILLS = [
  { id: 'pptx', title: 'PowerPoint', description: 'Create and edit presentations' },
  { id: 'xlsx', title: 'Excel', description: 'Create and analyse spreadsheets' },
  { id: 'docx', title: 'Word', description: 'Create and edit documents' },
  { id: 'pdf', title: 'PDF', description: 'Read, fill and create PDF files' },
];
export const ANTHROPIC_SKILL_VERSION = '20251013';

/** `SkillStore` is the in-memory Skills API, seeded with Anthropic's four published skills. */
export class SkillStore {
  private readonly skills: StoredSkill[] = [];
  private lastMicros = 0;

  constructor() {
    for (const seed of ANTHROPIC_SKILLS) {
      const skill = this.insert(seed.id, 'anthropic', seed.title, '2025-10-13T00:00:00Z');
      const skillMd = `---\nname: ${seed.id}\ndescription: ${seed.description}\n---\n# ${seed.title}\n`;
      const draft = { name: seed.id, description: seed.description, directory: seed.id, files: [{ path: `${seed.id}/SKILL.md`, data: Buffer.from(skillMd) }] };
      this.pushVersion(skill, draft, ANTHROPIC_SKILL_VERSION);
    }
  }

  /** Newest first, as the API lists them. */
  list(source?: 'custom' | 'anthropic'): StoredSkill[] {
    return this.skills.filter((s) => source === undefined || s.source === source).reverse();
  }

  find(id: string): StoredSkill | undefined {
    return this.skills.find((s) => s.id === id);
  }

  get(id: string): StoredSkill {
    const skill = this.find(id);
    if (!skill) throw notFound(`Skill not found: ${id}`);
    return skill;
  }

  create(title: string, draft: VersionDraft): StoredSkill {
    const skill = this.insert(newId('skill'), 'custom', title, isoAt());
    this.addVersion(skill, draft);
    return skill;
  }

  addVersion(skill: StoredSkill, draft: VersionDraft): StoredSkillVersion {
    assertCustom(skill);
    // Epoch microseconds, strictly increasing so two uploads in one millisecond still differ.
    this.lastMicros = Math.max(this.lastMicros + 1, Date.now() * 1000);
    return this.pushVersion(skill, draft, String(this.lastMicros));
  }

  /** `findVersion` accepts the beta version string, the GA version id, or `latest`. */
  findVersion(skill: StoredSkill, ref: string): StoredSkillVersion {
    const version = ref === 'latest' ? skill.versions.at(-1) : skill.versions.find((v) => v.version === ref || v.id === ref);
    if (!version) throw notFound(`Skill version not found: ${ref}`);
    return version;
  }

  deleteVersion(skill: StoredSkill, version: StoredSkillVersion): void {
    assertCustom(skill);
    skill.versions.splice(skill.versions.indexOf(version), 1);
    skill.updatedAt = isoAt();
  }

  /** The API refuses to delete a skill that still has versions (skills guide). */
  delete(skill: StoredSkill): void {
    assertCustom(skill);
    if (skill.versions.length > 0) {
      throw new StubError(400, 'invalid_request_error', 'Cannot delete a skill with existing versions. Delete all versions first.');
    }
    this.skills.splice(this.skills.indexOf(skill), 1);
  }

  private insert(id: string, source: StoredSkill['source'], title: string, at: string): StoredSkill {
    const skill: StoredSkill = { id, source, title, createdAt: at, updatedAt: at, versions: [] };
    this.skills.push(skill);
    return skill;
  }

  private pushVersion(skill: StoredSkill, draft: VersionDraft, version: string): StoredSkillVersion {
    const stored = { ...draft, id: newId('skillver'), version, skillId: skill.id, createdAt: isoAt() };
    skill.versions.push(stored);
    skill.updatedAt = stored.createdAt;
    return stored;
  }
}

function assertCustom(skill: StoredSkill): void {
  if (skill.source !== 'custom') {
    throw new StubError(403, 'permission_error', 'Anthropic skills are read-only');
  }
}

/** `skillView` renders a skill with the field names of the requested surface (§2.1 vs §2.2). */
export function skillView(skill: StoredSkill, surface: Surface) {
  const latest = skill.versions.at(-1);
  const common = { id: skill.id, type: 'skill', created_at: skill.createdAt, updated_at: skill.updatedAt };
  if (surface === 'beta') {
    return { ...common, display_title: skill.title, latest_version: latest?.version ?? null, source: skill.source };
  }
  return { ...common, display_name: skill.title, latest_version_id: latest?.id ?? null, source: { type: skill.source } };
}

/** `versionView` renders a skill version; GA drops `version` and `directory` and uses the id. */
export function versionView(version: StoredSkillVersion, surface: Surface) {
  const common = {
    id: version.id,
    type: 'skill_version',
    skill_id: version.skillId,
    name: version.name,
    description: version.description,
    created_at: version.createdAt,
  };
  return surface === 'beta' ? { ...common, version: version.version, directory: version.directory } : common;
}
