import type { Operation } from '../operation.ts';
import { invalidProxyRequest, ProxyError } from '../proxy-error.ts';
import { quote } from './context.ts';

/** One multipart part as the request reader summarised it. */
export interface UploadPart {
  name: string;
  filename?: string | undefined;
  size: number;
}

/** Anthropic's limit for one Skill upload (reference §2.1: "under 8 MB"). */
export const MAX_SKILL_UPLOAD_BYTES = 8 * 1024 * 1024;
/** Anthropic's limit for one Files API upload (reference §3.8). */
export const MAX_FILE_UPLOAD_BYTES = 500 * 1024 * 1024;

interface UploadRule {
  /** Parts that carry a file and must have a safe filename. */
  files: ReadonlySet<string>;
  /** Plain form fields, which must not carry a filename. */
  fields: ReadonlySet<string>;
  maxBytes: number;
}

/**
 * Multipart surfaces: Skill uploads take `files[]` (the SDKs' array encoding; `files` from hand-made
 * forms) plus the beta `display_title` or GA `display_name`; the Files API takes one `file` and
 * GA's `expires_in_seconds`.
 */
const UPLOAD_RULES: ReadonlyMap<Operation, UploadRule> = new Map<Operation, UploadRule>([
  ['skills:write', { files: new Set(['files[]', 'files']), fields: new Set(['display_title', 'display_name']), maxBytes: MAX_SKILL_UPLOAD_BYTES }],
  ['files:write', { files: new Set(['file']), fields: new Set(['expires_in_seconds']), maxBytes: MAX_FILE_UPLOAD_BYTES }],
]);

/**
 * `checkUploads` inspects a multipart upload before it is forwarded byte for byte:
 * - every part name is one the surface takes (400 `unknown_field`);
 * - the parts add up to at most the surface's limit (413 `upload_too_large`);
 * - a file's name is a relative path: not empty, no leading `/` or drive letter, no `.` or `..`
 *   segment, no empty segment, no backslash, no NUL or other control character (400
 *   `invalid_filename`), since the upstream unpacks Skills into directories by these names.
 */
export function checkUploads(parts: readonly UploadPart[], operation: Operation): void {
  const rule = UPLOAD_RULES.get(operation);
  const known = rule === undefined ? [] : [...rule.files, ...rule.fields];
  let total = 0;
  for (const part of parts) {
    if (rule === undefined || !known.includes(part.name)) {
      throw invalidProxyRequest('unknown_field', `multipart part ${quote(part.name)} is not one skillgate can check; known parts: ${known.join(', ') || 'none'}`);
    }
    if (rule.files.has(part.name)) {
      checkFilename(part.filename, part.name);
    } else if (part.filename !== undefined) {
      throw invalidProxyRequest('invalid_field', `multipart part ${quote(part.name)} is a form field and must not carry a filename`);
    }
    total += part.size;
    if (total > rule.maxBytes) {
      throw new ProxyError(413, 'request_too_large', 'upload_too_large', `the upload is larger than ${rule.maxBytes} bytes, the limit for ${operation}`);
    }
  }
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const UNSAFE_CHARS = /[\u0000-\u001f\u007f\\]/;

function checkFilename(filename: string | undefined, part: string): void {
  const problem = filenameProblem(filename);
  if (problem !== undefined) {
    throw invalidProxyRequest('invalid_filename', `multipart part ${quote(part)} ${problem}; send a relative path such as my-skill/SKILL.md`);
  }
}

function filenameProblem(filename: string | undefined): string | undefined {
  if (filename === undefined || filename === '') return 'has no filename';
  if (UNSAFE_CHARS.test(filename)) return 'has a backslash or a control character in its filename';
  if (filename.startsWith('/') || /^[A-Za-z]:/.test(filename)) return 'has an absolute filename';
  if (filename.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'has an empty, "." or ".." segment in its filename';
  return undefined;
}
