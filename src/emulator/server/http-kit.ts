/**
 * The small HTTP toolkit the routes share: a request wrapper, aiohttp-like responses and the route table with
 * ComfyUI's `/api` aliases.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pyJson } from './py-json.js';

/** What a route handler sees of a request. */
export interface EmulatorRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly params: Readonly<Record<string, string>>;
  readonly raw: IncomingMessage;
  /** The whole body (read once, cached). */
  body(): Promise<Buffer>;
}

/** A route handler writes its answer on `res` itself through the helpers below. */
export type RouteHandler = (req: EmulatorRequest, res: ServerResponse) => Promise<void> | void;

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

/** ComfyUI's `client_max_size` (its `max_upload_size`, 100 MiB). */
export const MAX_BODY_BYTES = 104857600;

/** Thrown when a body exceeds MAX_BODY_BYTES; aiohttp answers 413. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';

  constructor(readonly actual: number) {
    super(`Maximum request body size ${MAX_BODY_BYTES} exceeded, actual body size ${actual}`);
  }
}

/** Thrown by `readJson` when the body is not JSON; aiohttp turns the decoder's exception into a bare 500. */
export class MalformedBodyError extends Error {
  override readonly name = 'MalformedBodyError';
}

const INTERNAL_ERROR_TEXT = '500 Internal Server Error\n\nServer got itself in trouble';

/** Answers like aiohttp's `web.json_response` (Python json.dumps text, utf-8 content type). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, pyJson(body));
}

/** Answers with JSON text already written the way Python writes it. */
export function sendJsonText(res: ServerResponse, status: number, json: string): void {
  const text = Buffer.from(json, 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': text.length });
  res.end(text);
}

/** Answers like aiohttp's `web.Response(status=N)`: no body, no content type. */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** Answers with a plain text body. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
}

/** Answers with bytes and the given headers. */
export function sendBytes(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Length': body.length });
  res.end(body);
}

/** aiohttp's answer to an exception escaping a handler. */
export function sendInternalError(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendText(res, 500, INTERNAL_ERROR_TEXT);
}

/** Parses the body as JSON whatever the Content-Type says, as ComfyUI's `await request.json()` does. */
export async function readJson(req: EmulatorRequest): Promise<unknown> {
  const text = (await req.body()).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedBodyError('Expecting value', { cause: error });
  }
}

/** The route table: every route also answers under `/api`, like ComfyUI's. */
export class Router {
  private readonly routes: Route[] = [];

  /** Registers `handler` for `method` on `pattern` (`/history/{prompt_id}` style parameters). */
  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /**
   * Finds the handler and parameters for a request, or says why none fits (404 vs 405). A route registered with its
   * own `/api` prefix (current ComfyUI's jobs API) answers at `/api/...` and `/api/api/...`, never without it.
   */
  match(method: string, pathname: string): { handler: RouteHandler; params: Record<string, string> } | 404 | 405 {
    const raw = pathname.split('/').filter(Boolean).map(safeDecode);
    const segments = stripApiPrefix(raw);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments) ?? matchApiRoute(route.segments, raw);
      if (params === undefined) continue;
      pathMatched = true;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { handler: route.handler, params };
      }
    }
    return pathMatched ? 405 : 404;
  }
}

function stripApiPrefix(segments: string[]): string[] {
  return segments[0] === 'api' ? segments.slice(1) : segments;
}

function matchApiRoute(pattern: readonly string[], raw: readonly string[]): Record<string, string> | undefined {
  return pattern[0] === 'api' ? matchSegments(pattern, raw) : undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchSegments(pattern: readonly string[], actual: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const value = actual[index] ?? '';
    if (part.startsWith('{') && part.endsWith('}')) params[part.slice(1, -1)] = value;
    else if (part !== value) return undefined;
  }
  return params;
}

/** Wraps a Node request so handlers can read the body once and see parsed URL and parameters. */
export function wrapRequest(raw: IncomingMessage, params: Record<string, string>): EmulatorRequest {
  let cached: Promise<Buffer> | undefined;
  const url = new URL(raw.url ?? '/', 'http://emulator.invalid');
  return {
    method: raw.method ?? 'GET',
    url,
    headers: raw.headers,
    params,
    raw,
    body: () => (cached ??= collectBody(raw)),
  };
}

async function collectBody(raw: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(size);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
