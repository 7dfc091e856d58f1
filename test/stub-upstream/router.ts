import type { Route } from './context.ts';

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/**
 * `matchRoute` finds the route for a method and raw path. Routing looks at the path only, never
 * the query, so `?beta=true` reaches the same handler (§7.2). Parameters are percent-decoded.
 */
export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch | undefined {
  const segments = splitPath(path);
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchSegments(splitPath(route.path), segments);
    if (params) return { route, params };
  }
  return undefined;
}

/** `pathExists` tells a 405-worthy path (known, other method) from an unknown one. */
export function pathExists(routes: readonly Route[], path: string): boolean {
  const segments = splitPath(path);
  return routes.some((route) => matchSegments(splitPath(route.path), segments) !== undefined);
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, want] of pattern.entries()) {
    const got = actual[i] ?? '';
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return undefined;
      }
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}
