/**
 * The HTTP side of the fake: `/api/v10/...` REST calls (recorded, with faults injected before anything else),
 * `/attachments/...` downloads of stored files, and WebSocket upgrades on `/gateway`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../../src/logger.js';
import type { CallLog, RecordedCall } from './call-log.js';
import type { FaultInjector } from './faults.js';
import type { FakeGateway } from './gateway.js';
import type { FakeAttachment } from './model.js';
import { parseBody, readRequestBody, type ParsedBody } from './request-body.js';
import { DiscordHttpError, errors } from './rest-types.js';
import type { RateLimiter } from './rate-limiter.js';
import { splitPath, type Router } from './router.js';

const API_PREFIX = '/api/v10';

/** A download of a stored attachment (the bot fetching a file a member posted). */
export interface DownloadRecord {
  readonly path: string;
  readonly status: number;
  readonly at: number;
}

/** What the HTTP server serves. */
export interface HttpServerDeps {
  readonly router: Router;
  readonly calls: CallLog;
  readonly faults: FaultInjector;
  readonly gateway: FakeGateway;
  readonly logger: Logger;
  readonly downloads: DownloadRecord[];
  /** Per-route limits; none when absent. */
  readonly rateLimiter: RateLimiter | null;
  isValidToken(token: string): boolean;
  attachment(id: string): FakeAttachment | undefined;
}

/** Creates the (not yet listening) server. */
export function createHttpServer(deps: HttpServerDeps): Server {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      deps.logger.error({ err: error }, 'fake Discord failed to answer a request');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: '500: Internal Server Error', code: 0 }));
    });
  });
  server.on('upgrade', (req, socket, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    if (path === '/gateway') deps.gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  return server;
}

async function handle(deps: HttpServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname.startsWith('/attachments/')) {
    serveAttachment(deps, url.pathname, res);
    return;
  }
  const seq = deps.calls.reserveSeq();
  const receivedAt = Date.now();
  const method = req.method ?? 'GET';
  const inApi = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`);
  const path = `/${splitPath(inApi ? url.pathname.slice(API_PREFIX.length) : url.pathname).join('/')}`;
  const match = inApi ? deps.router.match(method, path) : null;
  const authHeader = req.headers.authorization ?? '';
  const authorized = authHeader.startsWith('Bot ') && deps.isValidToken(authHeader.slice(4));
  let parsed: ParsedBody = { body: null, files: [] };
  let status = 500;
  let response: unknown = null;
  let injected = false;
  const send = (code: number, headers: Record<string, string>, text: string | null) => {
    status = code;
    res.writeHead(code, headers);
    res.end(text ?? undefined);
  };
  try {
    parsed = await parseBody(await readRequestBody(req), req.headers['content-type']);
    const fault = deps.faults.take({ method, path, route: match?.route.template ?? null });
    if (fault) {
      injected = true;
      response = fault.headers['content-type'] === 'application/json' ? JSON.parse(fault.body) : fault.body;
      send(fault.status, fault.headers, fault.body);
    } else {
      if (!match) throw errors.notFound();
      if (match.route.auth === 'bot' && !authorized) throw errors.unauthorized();
      const limit = rateLimit(deps, method, match);
      if (limit.retryAfter !== null) {
        response = { message: 'You are being rate limited.', retry_after: limit.retryAfter, global: false };
        send(429, { ...limit.headers, 'content-type': 'application/json' }, JSON.stringify(response));
      } else {
        const query = Object.fromEntries(url.searchParams);
        const request = { method, path, params: match.params, query, ...parsed, receivedAt };
        const result = await match.route.handler(request);
        response = result.body ?? null;
        const json = result.body === undefined ? null : JSON.stringify(result.body);
        send(result.status, { ...limit.headers, ...(json ? { 'content-type': 'application/json' } : {}) }, json);
      }
    }
  } catch (error) {
    const failure = error instanceof DiscordHttpError ? error : unexpected(deps.logger, error);
    response = failure.toJSON();
    send(failure.status, { 'content-type': 'application/json' }, JSON.stringify(response));
  }
  deps.calls.add(
    buildCall({ seq, method, path, match, url, req, authorized, parsed, receivedAt, status, response, injected }),
  );
}

const NO_LIMIT = { headers: {}, retryAfter: null };

/** Interaction callbacks have no bucket on Discord; every other handled route does when limits are on. */
function rateLimit(deps: HttpServerDeps, method: string, match: NonNullable<ReturnType<Router['match']>>) {
  if (!deps.rateLimiter || match.route.template.endsWith('/callback')) return NO_LIMIT;
  return deps.rateLimiter.take(method, match.route.template, match.params);
}

function unexpected(logger: Logger, error: unknown): DiscordHttpError {
  logger.error({ err: error }, 'fake Discord route failed');
  const detail = error instanceof Error ? error.message : String(error);
  return new DiscordHttpError(500, 0, `500: Internal Server Error (fake Discord: ${detail})`);
}

interface CallParts {
  seq: number;
  method: string;
  path: string;
  match: ReturnType<Router['match']>;
  url: URL;
  req: IncomingMessage;
  authorized: boolean;
  parsed: ParsedBody;
  receivedAt: number;
  status: number;
  response: unknown;
  injected: boolean;
}

function buildCall(parts: CallParts): RecordedCall {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parts.req.headers)) {
    if (name !== 'authorization' && value !== undefined)
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    seq: parts.seq,
    method: parts.method,
    path: parts.path,
    route: parts.match?.route.template ?? null,
    params: parts.match?.params ?? {},
    query: Object.fromEntries(parts.url.searchParams),
    headers,
    authorized: parts.authorized,
    body: parts.parsed.body,
    files: parts.parsed.files,
    receivedAt: parts.receivedAt,
    status: parts.status,
    response: parts.response,
    injected: parts.injected,
  };
}

function serveAttachment(deps: HttpServerDeps, pathname: string, res: ServerResponse): void {
  const [, id] = splitPath(pathname.slice('/attachments'.length));
  const attachment = id ? deps.attachment(id) : undefined;
  const status = attachment ? 200 : 404;
  deps.downloads.push({ path: pathname, status, at: Date.now() });
  if (!attachment) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not Found');
    return;
  }
  res.writeHead(200, {
    'content-type': attachment.contentType ?? 'application/octet-stream',
    'content-length': String(attachment.data.length),
  });
  res.end(attachment.data);
}
