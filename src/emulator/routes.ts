import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorState } from './state.js';

/** What a route handler is given for one request. */
export interface RouteContext {
  /** The request. */
  req: IncomingMessage;
  /** The response to write. */
  res: ServerResponse;
  /** The request URL, absolute. */
  url: URL;
  /** Capture groups when the route's path is a RegExp. */
  params: string[];
  /** The emulator's state. */
  state: EmulatorState;
  /** The emulator's own base URL, e.g. http://127.0.0.1:8889 (no trailing slash). */
  baseUrl: string;
}

/** One route of the emulator's HTTP server. */
export interface Route {
  /** The HTTP method it answers; 'ANY': the route dispatches methods itself (the /v1 Web API). */
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'ANY';
  /** Exact pathname, or a RegExp tested against the pathname (use ^…$). */
  path: string | RegExp;
  /** Writes the response. */
  handler: (ctx: RouteContext) => void | Promise<void>;
}

export type RouteMatch = { route: Route; params: string[] } | { allowed: string[] } | null;

/** Exact paths win over patterns; a path that exists under another method yields the Allow list (405). */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): RouteMatch {
  const allowed: string[] = [];
  for (const route of routes) {
    let params: string[] | null = null;
    if (typeof route.path === 'string') {
      if (route.path === pathname) params = [];
    } else {
      const m = route.path.exec(pathname);
      if (m) params = m.slice(1).map((p) => p ?? '');
    }
    if (params === null) continue;
    if (route.method === method || route.method === 'ANY' || (method === 'HEAD' && route.method === 'GET')) {
      return { route, params };
    }
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : null;
}
