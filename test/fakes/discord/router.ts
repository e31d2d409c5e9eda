/**
 * Matches `METHOD /path` against route templates such as `/channels/:channelId/messages/:messageId`. Path segments
 * are percent-decoded first, so `%40original` (how discord.js sends `@original`) matches a literal `@original`.
 */
import type { RouteHandler } from './rest-types.js';

/** Whether a route needs `Authorization: Bot <token>` (interaction callbacks and webhooks carry none). */
export type RouteAuth = 'bot' | 'none';

/** One entry of the route table. */
export interface RouteDefinition {
  readonly method: string;
  readonly template: string;
  readonly auth: RouteAuth;
  readonly handler: RouteHandler;
}

/** A successful match. */
export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly params: Record<string, string>;
}

/** The route table. Literal segments win over parameters, whatever the order of registration. */
export class Router {
  private readonly routes: { route: RouteDefinition; parts: string[] }[] = [];

  add(method: string, template: string, auth: RouteAuth, handler: RouteHandler): void {
    this.routes.push({ route: { method, template, auth, handler }, parts: splitPath(template) });
  }

  match(method: string, path: string): RouteMatch | null {
    const segments = splitPath(path);
    let best: { match: RouteMatch; literals: number } | null = null;
    for (const { route, parts } of this.routes) {
      if (route.method !== method) continue;
      const found = matchParts(parts, segments);
      if (found && (!best || found.literals > best.literals)) {
        best = { match: { route, params: found.params }, literals: found.literals };
      }
    }
    return best?.match ?? null;
  }
}

/** Splits and percent-decodes a path (`/a/%40b` → `['a', '@b']`). */
export function splitPath(path: string): string[] {
  return path
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

function matchParts(parts: string[], segments: string[]) {
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  let literals = 0;
  for (const [index, part] of parts.entries()) {
    const segment = segments[index] ?? '';
    if (part.startsWith(':')) {
      params[part.slice(1)] = segment;
    } else if (part === segment) {
      literals += 1;
    } else {
      return null;
    }
  }
  return { params, literals };
}
