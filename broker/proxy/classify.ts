// The classify stage: method + exact path + query → the one operation a request performs, and the
// upstream path rebuilt from the route template. The raw path is matched as received: nothing is
// decoded or normalised, so a path that would need either (percent-encoding, `..`, `//`, `\`,
// `;`, non-ASCII) is refused instead of being interpreted. Refusals, in order of the checks:
//
// | status | reason                            | when |
// | ------ | --------------------------------- | ---- |
// | 400    | `upgrade_not_supported`           | an `Upgrade` header (WebSocket, h2c) |
// | 400    | `request_target_too_long`         | the target exceeds `MAX_TARGET` |
// | 400    | `request_target_not_origin_form`  | absolute-form (`http://…`), authority- or asterisk-form |
// | 400    | `path_not_canonical`              | a byte outside `[A-Za-z0-9._@/-]`, or an empty segment |
// | 400    | `path_traversal`                  | a `.` or `..` segment |
// | 403    | `surface_not_proxied`             | Admin API, OAuth, completions, agents/sessions/vaults/… |
// | 404    | `route_not_found`                 | no template has this path (incl. trailing `/`, case, `.json`) |
// | 405    | `method_not_allowed`              | the path exists, the method does not (HEAD, OPTIONS, PUT …) |
// | 404    | `path_parameter_invalid`          | an id that cannot exist (`file_id` not `file_…`) |
// | 400    | `query_not_allowed`               | a query parameter not allowlisted, repeated, or mistyped |
//
// Method-override headers and parameters (`X-HTTP-Method-Override`, `?_method=`) are never read:
// the method is the request's own, and an override parameter fails the query allowlist.

import type { ClassifiedRequest } from './operation.ts';
import { invalidProxyRequest, permissionDenied, ProxyError, routeNotFound } from './proxy-error.ts';
import { DENIED_SURFACES, PATH_PARAMS, QUERY_TYPES, ROUTES, SURFACE_BETAS, type QueryParam, type RouteSpec } from './routes.ts';

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Longer than any legitimate target (100 `ids[]` of a GA files list fit in about 5 000). */
export const MAX_TARGET = 8192;

/** The bytes a canonical path may hold: the union of the template literals and the id patterns. */
const CANONICAL_PATH = /^[A-Za-z0-9._@/-]*$/;

type Segment = { literal: string } | { param: string; pattern: RegExp };

interface CompiledRoute {
  spec: RouteSpec;
  /** `GET /v1/skills/{skill_id}`: the `route` of the classification and the metrics label. */
  label: string;
  segments: readonly Segment[];
  /** A Map, not the spec's object: a caller's `?constructor=` must not find `Object.prototype`. */
  query: ReadonlyMap<string, QueryParam>;
}

function compileRoute(spec: RouteSpec): CompiledRoute {
  const segments = spec.template
    .slice(1)
    .split('/')
    .map((part): Segment => {
      if (!part.startsWith('{')) return { literal: part };
      const param = part.slice(1, -1);
      const pattern = PATH_PARAMS[param];
      if (!pattern) throw new Error(`route ${spec.template}: no pattern for path parameter {${param}}`);
      return { param, pattern };
    });
  return { spec, label: `${spec.method} ${spec.template}`, segments, query: new Map(Object.entries(spec.query)) };
}

// Compiled once at module load; classification then only compares strings and runs bounded regexes.
const COMPILED: readonly CompiledRoute[] = ROUTES.map(compileRoute);

/**
 * `classifyRequest` returns the operation, route and upstream path of a request, or throws a
 * `ProxyError` for anything outside the proxied surface. `rawUrl` is `req.url` exactly as received;
 * `headers` are Node's lower-cased request headers.
 */
export function classifyRequest(method: string, rawUrl: string, headers: RequestHeaders): ClassifiedRequest {
  refuseUpgrade(headers);
  const { path, rawQuery } = splitTarget(rawUrl);
  const segments = readSegments(path);
  refuseDeniedSurface(segments);
  const route = matchRoute(method, segments);
  const { params, upstreamPath } = readParams(route, segments);
  const query = readQuery(route, rawQuery);
  const search = query.toString();
  return {
    operation: route.spec.operation,
    route: route.label,
    upstreamPath: search === '' ? upstreamPath : `${upstreamPath}?${search}`,
    params,
    beta: query.get('beta') === 'true' || sendsSurfaceBeta(headers['anthropic-beta']),
    body: route.spec.body,
    mayStream: route.spec.mayStream,
  };
}

function refuseUpgrade(headers: RequestHeaders): void {
  if (headers['upgrade'] !== undefined) {
    throw invalidProxyRequest('upgrade_not_supported', 'skillgate does not upgrade connections (WebSocket, h2c); send plain HTTP/1.1 requests.');
  }
}

function splitTarget(rawUrl: string): { path: string; rawQuery: string } {
  if (rawUrl.length > MAX_TARGET) {
    throw invalidProxyRequest('request_target_too_long', `The request target is longer than ${MAX_TARGET} characters.`);
  }
  // Absolute-form (`POST http://169.254.169.254/…`) would let the caller name the upstream; the
  // origin is fixed, so only a path is accepted.
  if (!rawUrl.startsWith('/')) {
    throw invalidProxyRequest('request_target_not_origin_form', 'The request target must be a path starting with "/", not an absolute URL.');
  }
  const at = rawUrl.indexOf('?');
  return at === -1 ? { path: rawUrl, rawQuery: '' } : { path: rawUrl.slice(0, at), rawQuery: rawUrl.slice(at + 1) };
}

/**
 * `readSegments` refuses every path that a decoder or normaliser downstream could read differently
 * from the way it is matched here: no legitimate route or id needs `%`, `\`, `;` or `//`.
 */
function readSegments(path: string): string[] {
  if (!CANONICAL_PATH.test(path)) {
    throw invalidProxyRequest(
      'path_not_canonical',
      'The request path may hold only letters, digits, "-", "_", ".", "@" and "/": no percent-encoding, backslashes, ";" parameters or other characters.',
    );
  }
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '.' || segment === '..') {
      throw invalidProxyRequest('path_traversal', 'The request path may not contain "." or ".." segments.');
    }
    // A trailing "/" leaves one empty last segment: not a trick, just no route (404 below).
    if (segment === '' && i < segments.length - 1) {
      throw invalidProxyRequest('path_not_canonical', 'The request path may not contain empty segments ("//").');
    }
  }
  return segments;
}

// Case-insensitive on purpose: `/V1/Organizations` is refused as what it tries to reach, even
// though the exact-match router would only have answered 404.
function refuseDeniedSurface(segments: readonly string[]): void {
  const [version, surface] = segments;
  const name = surface?.toLowerCase();
  if (version?.toLowerCase() === 'v1' && name !== undefined && DENIED_SURFACES.has(name)) {
    throw permissionDenied(
      'surface_not_proxied',
      `skillgate does not proxy /v1/${name}: it forwards only the Messages, Models, Skills, Files and Message Batches APIs.`,
    );
  }
}

function matchRoute(method: string, segments: readonly string[]): CompiledRoute {
  const allowed: string[] = [];
  for (const route of COMPILED) {
    if (!sameShape(route, segments)) continue;
    if (route.spec.method === method) return route;
    allowed.push(route.spec.method);
  }
  if (allowed.length > 0) {
    throw new ProxyError(405, 'invalid_request_error', 'method_not_allowed', `This path accepts only ${allowed.join(', ')}.`);
  }
  throw routeNotFound(
    'route_not_found',
    'No proxied route has this path. skillgate forwards the Messages, Models, Skills, Files and Message Batches APIs; paths are exact and case-sensitive, without a trailing "/" or a suffix.',
  );
}

/**
 * Literals must match and parameters be present; ids are checked later, so a path with an invalid
 * id still has a known shape (405 before 404). A trailing "/" leaves no id: no shape at all.
 */
function sameShape(route: CompiledRoute, segments: readonly string[]): boolean {
  if (route.segments.length !== segments.length) return false;
  return route.segments.every((s, i) => ('literal' in s ? s.literal === segments[i] : segments[i] !== ''));
}

function readParams(route: CompiledRoute, segments: readonly string[]): { params: Record<string, string>; upstreamPath: string } {
  const params: Record<string, string> = {};
  let upstreamPath = '';
  for (const [i, segment] of route.segments.entries()) {
    if ('literal' in segment) {
      upstreamPath += `/${segment.literal}`;
      continue;
    }
    const value = segments[i] ?? '';
    if (!segment.pattern.test(value)) {
      throw routeNotFound('path_parameter_invalid', `${segment.param} in ${route.label} is not a valid id.`);
    }
    params[segment.param] = value;
    // Safe unencoded: the pattern admits only [A-Za-z0-9._@-] and never a dot segment.
    upstreamPath += `/${value}`;
  }
  return { params, upstreamPath };
}

/**
 * `readQuery` returns the allowlisted query, re-encoded by URLSearchParams. Keys arrive decoded, so
 * the SDK's `ids%5B%5D=` and a hand-written `ids[]=` are the same parameter.
 */
function readQuery(route: CompiledRoute, rawQuery: string): URLSearchParams {
  const query = new URLSearchParams();
  if (rawQuery === '') return query;
  const counts = new Map<string, number>();
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    const param = route.query.get(key);
    if (param === undefined) {
      const allowed = [...route.query.keys()].join(', ');
      throw queryNotAllowed(`${route.label} takes no query parameter ${JSON.stringify(key.slice(0, 64))}; allowed: ${allowed}.`);
    }
    const count = (counts.get(key) ?? 0) + 1;
    const max = param.max ?? 1;
    if (count > max) throw queryNotAllowed(`Query parameter ${key} may appear at most ${max === 1 ? 'once' : `${max} times`}.`);
    counts.set(key, count);
    const type = QUERY_TYPES[param.type];
    if (!type.accepts(value)) throw queryNotAllowed(`Query parameter ${key} must ${type.expects}.`);
    query.append(key, value);
  }
  return query;
}

const queryNotAllowed = (message: string) => invalidProxyRequest('query_not_allowed', message);

/** `anthropic-beta` is a comma-separated list, and may also be repeated (Node then gives an array). */
function sendsSurfaceBeta(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const values = Array.isArray(header) ? header : [header];
  return values.some((value) => value.split(',').some((beta) => SURFACE_BETAS.has(beta.trim())));
}
