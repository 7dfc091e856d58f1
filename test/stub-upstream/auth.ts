import type { StubSettings } from './context.ts';
import { invalidRequest, unauthenticated } from './errors.ts';
import type { RecordedRequest } from './recording.ts';

/** `2023-06-01` is what older SDKs and Claude Code send; SDK 1.x sends `2026-10-21` (§10). */
export const ANTHROPIC_VERSIONS = ['2023-06-01', '2026-10-21'];

const ADMIN_KEY_PREFIX = 'sk-ant-admin01-';
const OAUTH_TOKEN_PREFIX = 'sk-ant-oat01-';

function header(record: RecordedRequest, name: string): string | undefined {
  const value = record.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `isAdminPath` tells Admin API routes, which only admin keys may call (§8). */
export function isAdminPath(path: string): boolean {
  return path === '/v1/organizations' || path.startsWith('/v1/organizations/');
}

/**
 * `authenticate` throws a 401 unless every credential the request presents is acceptable.
 * Checking every presented credential, not just one, is deliberate: a proxy that injects the real
 * key but also forwards the caller's broker token in the other header must fail here.
 *
 * - `x-api-key` must be one of the configured keys.
 * - `Authorization: Bearer <key>` with a configured key is accepted: SDK 1.x sends API keys that way.
 * - With `allowBearer` (OAuth mode), a Bearer OAuth access token (`sk-ant-oat01-…`) is accepted too.
 * - Admin keys work only on `/v1/organizations/*`, standard keys everywhere else.
 */
export function authenticate(record: RecordedRequest, settings: StubSettings): void {
  const apiKey = header(record, 'x-api-key');
  const authorization = header(record, 'authorization');
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (apiKey === undefined && bearer === undefined) {
    throw unauthenticated('x-api-key header is required');
  }
  if (authorization !== undefined && bearer === undefined) {
    throw unauthenticated('invalid authorization header');
  }
  const admin = isAdminPath(record.path);
  const keyFits = (key: string) =>
    settings.apiKeys.includes(key) && key.startsWith(ADMIN_KEY_PREFIX) === admin;
  if (apiKey !== undefined && !keyFits(apiKey)) {
    throw unauthenticated('invalid x-api-key');
  }
  if (bearer !== undefined && !keyFits(bearer)) {
    const oauthOk = settings.allowBearer && !admin && bearer.startsWith(OAUTH_TOKEN_PREFIX);
    if (!oauthOk) throw unauthenticated('invalid x-api-key');
  }
}

/** `checkVersion` throws the 400 the API sends when `anthropic-version` is missing or unknown. */
export function checkVersion(record: RecordedRequest): void {
  const version = header(record, 'anthropic-version');
  if (version === undefined) throw invalidRequest('anthropic-version: header is required');
  if (!ANTHROPIC_VERSIONS.includes(version)) {
    throw invalidRequest(`anthropic-version: invalid version ${JSON.stringify(version)}`);
  }
}
