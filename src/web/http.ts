/**
 * The few HTTP chores the web face needs on top of node:http: reading a body with a size cap, answering JSON, and
 * matching a route. No framework: the API has a dozen routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiProblem } from './problem.js';

/** Reads the whole body; a body over `maxBytes` is refused with 413 without holding more than that. */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): ApiProblem {
  const limit = `${Math.round(maxBytes / 1024 / 1024)} MiB`;
  return new ApiProblem(413, 'body-too-large', `The request is larger than ${limit}; send a smaller image.`);
}

/** Answers `body` as JSON. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

/** A route: a method, a path pattern with named groups, and what to do. */
export interface Route<Context> {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handle: (context: Context, params: Readonly<Record<string, string>>) => Promise<void>;
}

/** The route for a request, its path parameters, or whether the path exists under another method. */
export function matchRoute<Context>(
  routes: readonly Route<Context>[],
  method: string,
  path: string,
): { route: Route<Context>; params: Record<string, string> } | { route: undefined; pathExists: boolean } {
  let pathExists = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method === method || (route.method === 'GET' && method === 'HEAD')) {
      return { route, params: { ...match.groups } };
    }
    pathExists = true;
  }
  return { route: undefined, pathExists };
}
