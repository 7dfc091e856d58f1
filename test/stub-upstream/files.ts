import type { Route, StubContext } from './context.ts';
import { queryList } from './context.ts';
import { StubError, invalidRequest, notFound } from './errors.ts';
import { isoAt, newId } from './ids.ts';
import { cursorPage, idPage } from './pagination.ts';
import { sendBytes, sendJson } from './reply.ts';
import { FILES_BETA, resolveSurface } from './surface.ts';

export interface StoredUpload {
  id: string;
  filename: string;
  mimeType: string;
  data: Buffer;
  createdAt: string;
  expiresAt: string | null;
  /** Only files the stub's code execution produced can be downloaded, as on the real API. */
  downloadable: boolean;
}

/** `FileStore` is the in-memory Files API; newest first, as the API lists them. */
export class FileStore {
  private readonly files: StoredUpload[] = [];

  add(file: Omit<StoredUpload, 'id' | 'createdAt'>): StoredUpload {
    const stored = { ...file, id: newId('file'), createdAt: isoAt() };
    this.files.unshift(stored);
    return stored;
  }

  list(): readonly StoredUpload[] {
    return this.files;
  }

  get(id: string): StoredUpload {
    const file = this.files.find((f) => f.id === id);
    if (!file) throw notFound(`File not found: ${id}`);
    return file;
  }

  delete(id: string): void {
    this.files.splice(this.files.indexOf(this.get(id)), 1);
  }
}

function metadata(file: StoredUpload) {
  return {
    id: file.id,
    type: 'file',
    filename: file.filename,
    mime_type: file.mimeType,
    size_bytes: file.data.length,
    created_at: file.createdAt,
    downloadable: file.downloadable,
    expires_at: file.expiresAt,
  };
}

const MIN_EXPIRY_S = 3600;
const MAX_EXPIRY_S = 7_776_000;

function upload(ctx: StubContext): void {
  resolveSurface(ctx, FILES_BETA);
  const part = ctx.parts?.find((p) => p.name === 'file' && p.filename !== undefined);
  if (!part) throw invalidRequest('file: Field required');
  const expiresRaw = ctx.parts?.find((p) => p.name === 'expires_in_seconds')?.data.toString('utf8');
  let expiresAt: string | null = null;
  if (expiresRaw !== undefined) {
    const seconds = Number(expiresRaw);
    if (!Number.isInteger(seconds) || seconds < MIN_EXPIRY_S || seconds > MAX_EXPIRY_S) {
      throw invalidRequest(`expires_in_seconds: must be between ${MIN_EXPIRY_S} and ${MAX_EXPIRY_S}`);
    }
    expiresAt = isoAt(seconds * 1000);
  }
  const file = ctx.state.files.add({
    filename: part.filename ?? 'upload',
    mimeType: part.contentType || 'application/octet-stream',
    data: part.data,
    expiresAt,
    downloadable: false,
  });
  sendJson(ctx, 200, metadata(file));
}

function list(ctx: StubContext): void {
  const surface = resolveSurface(ctx, FILES_BETA);
  const files = ctx.state.files.list().map(metadata);
  if (surface === 'beta') return sendJson(ctx, 200, idPage(ctx, files, 20, 1000));
  // GA `ids[]` answers a single page, skipping ids that do not resolve (SDK 1.14 doc comment).
  const ids = queryList(ctx, 'ids');
  if (ids.length > 0) {
    return sendJson(ctx, 200, { data: files.filter((f) => ids.includes(f.id)), has_more: false, next_page: null });
  }
  sendJson(ctx, 200, cursorPage(ctx, files));
}

function fileId(ctx: StubContext): string {
  return ctx.params['file_id'] ?? '';
}

export const fileRoutes: Route[] = [
  { method: 'POST', path: '/v1/files', handle: upload },
  { method: 'GET', path: '/v1/files', handle: list },
  {
    method: 'GET',
    path: '/v1/files/:file_id',
    handle: (ctx) => {
      resolveSurface(ctx, FILES_BETA);
      sendJson(ctx, 200, metadata(ctx.state.files.get(fileId(ctx))));
    },
  },
  {
    method: 'GET',
    path: '/v1/files/:file_id/content',
    handle: (ctx) => {
      resolveSurface(ctx, FILES_BETA);
      const file = ctx.state.files.get(fileId(ctx));
      if (!file.downloadable) {
        throw new StubError(400, 'invalid_request_error', `File ${file.id} is not downloadable`, {}, 'file_not_downloadable');
      }
      sendBytes(ctx, file.mimeType, file.data);
    },
  },
  {
    method: 'DELETE',
    path: '/v1/files/:file_id',
    handle: (ctx) => {
      resolveSurface(ctx, FILES_BETA);
      ctx.state.files.delete(fileId(ctx));
      sendJson(ctx, 200, { id: fileId(ctx), type: 'file_deleted' });
    },
  },
];
