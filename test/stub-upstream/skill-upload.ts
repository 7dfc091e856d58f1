import { parse as parseYaml } from 'yaml';
import { invalidRequest, tooLarge } from './errors.ts';
import type { MultipartPart } from './multipart.ts';
import type { ZipEntry } from './zip.ts';

/** What one skills upload yields before it is stored as a version. */
export interface VersionDraft {
  name: string;
  description: string;
  /** The upload's single top-level directory, e.g. `my-skill`. */
  directory: string;
  files: ZipEntry[];
}

const MAX_UPLOAD_BYTES = 8 * 1024 * 1024;
const TOP_LEVEL_RULE = 'SKILL.md must be exactly in the top-level folder';

/**
 * `readSkillUpload` applies the skills upload rules (§2.1, §8) to the multipart parts:
 * `files[]` (or `files`) parts with directory-qualified filenames, one shared top-level directory,
 * `SKILL.md` directly under it with `name` and `description` frontmatter, at most 8 MB in total.
 */
export function readSkillUpload(parts: MultipartPart[] | undefined): VersionDraft {
  if (parts === undefined) throw invalidRequest('Expected a multipart/form-data body');
  const files = parts.filter((p) => (p.name === 'files[]' || p.name === 'files') && p.filename !== undefined);
  if (files.length === 0) throw invalidRequest('files: at least one file is required');
  const total = files.reduce((sum, p) => sum + p.data.length, 0);
  if (total > MAX_UPLOAD_BYTES) throw tooLarge('Skill upload exceeds the 8 MB limit');

  const entries = files.map((p) => ({ path: p.filename ?? '', data: p.data }));
  for (const { path } of entries) {
    const segments = path.split('/');
    if (path.startsWith('/') || segments.includes('..') || segments.includes('')) {
      throw invalidRequest(`files: invalid file path ${JSON.stringify(path)}`);
    }
  }
  const directories = new Set(entries.map(({ path }) => (path.includes('/') ? path.split('/')[0] : '')));
  const [directory] = directories;
  if (directories.size !== 1 || !directory) throw invalidRequest(TOP_LEVEL_RULE);
  const skillMd = entries.find(({ path }) => path === `${directory}/SKILL.md`);
  if (!skillMd) throw invalidRequest(TOP_LEVEL_RULE);

  const { name, description } = readFrontmatter(skillMd.data.toString('utf8'));
  return { name, description, directory, files: entries };
}

function readFrontmatter(text: string): { name: string; description: string } {
  const block = /^---\r?\n([\s\S]*?)\r?\n---(?:\r?\n|$)/.exec(text)?.[1];
  let fields: unknown;
  try {
    fields = block === undefined ? undefined : parseYaml(block);
  } catch {
    fields = undefined;
  }
  const { name, description } = (fields ?? {}) as Record<string, unknown>;
  if (typeof name !== 'string' || typeof description !== 'string' || !name || !description) {
    throw invalidRequest('SKILL.md must start with YAML frontmatter that sets name and description');
  }
  return { name, description };
}
