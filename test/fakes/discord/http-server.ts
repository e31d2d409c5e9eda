/**
 * The HTTP side of the fake: `/api/v10/...` REST calls (recorded, with faults injected before anything else),
 * `/attachments/...` downloads of stored files, and WebSocket upgrades on `/gateway`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../../src/logger.js';
import type { CallLog, RecordedCall } from './call-log.js';
import type { FaultInjector } from './faults.js';
import type { FakeGateway } from './gateway.js';
import type { GlobalRateLimiter } from './global-rate-limit.js';
import type { FakeAttachment } from './model.js';
import { parseBody, readRequestBody, type ParsedBody } from './request-body.js';
import { DiscordHttpError, errors } from './rest-types.js';
import type { RateLimiter } from './rate-limiter.js';
import { splitPath, type RouteMatch, type Router } from './router.js';

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
  /** The bot's global limit (50 requests per second by default); none when absent. */
  readonly globalRateLimiter: GlobalRateLimiter | null;
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
  // Discord's API sits behind Cloudflare, which keeps an idle HTTP/1.1 client connection for 400 s
  // (developers.cloudflare.com/fundamentals/reference/connection-limits); Node's default is 5 s.
  server.keepAliveTimeout = 400_000;
  server.on('upgrade', (req, socket, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    if (path === '/gateway') deps.gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  return server;
}

/** The parts of a call known when it arrives. */
interface Incoming {
  readonly seq: number;
  readonly receivedAt: number;
  readonly method: string;
  readonly path: string;
  readonly url: URL;
  readonly match: RouteMatch | null;
  readonly authorized: boolean;
  /** The bot token it was authorized with, when it was. */
  readonly botToken: string | null;
}

/** What the fake answers. */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string | null;
  /** The parsed JSON answer, for the record. */
  readonly response: unknown;
  readonly injected: boolean;
}

const NO_BODY: ParsedBody = { body: null, files: [] };

async function handle(deps: HttpServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname.startsWith('/attachments/')) {
    serveAttachment(deps, url.pathname, res);
    return;
  }
  const incoming = arrive(deps, req, url);
  let parsed = NO_BODY;
  let answer: Answer;
  try {
    parsed = await parseBody(await readRequestBody(req), req.headers['content-type']);
    answer = await answerCall(deps, incoming, parsed);
  } catch (error) {
    const failure = error instanceof DiscordHttpError ? error : unexpected(deps.logger, error);
    answer = jsonAnswer(failure.status, {}, failure.toJSON());
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.text ?? undefined);
  deps.calls.add(buildCall(incoming, req, parsed, answer));
}

function arrive(deps: HttpServerDeps, req: IncomingMessage, url: URL): Incoming {
  const method = req.method ?? 'GET';
  const inApi = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`);
  const path = `/${splitPath(inApi ? url.pathname.slice(API_PREFIX.length) : url.pathname).join('/')}`;
  const authHeader = req.headers.authorization ?? '';
  const authorized = authHeader.startsWith('Bot ') && deps.isValidToken(authHeader.slice(4));
  return {
    seq: deps.calls.reserveSeq(),
    receivedAt: Date.now(),
    method,
    path,
    url,
    match: inApi ? deps.router.match(method, path) : null,
    authorized,
    botToken: authorized ? authHeader.slice(4) : null,
  };
}

/**
 * Faults first (Discord's edge answers before the API does), then the bot's global limit (every request with its
 * token counts, known route or not), routing, auth, per-route limits and the route.
 */
async function answerCall(deps: HttpServerDeps, incoming: Incoming, parsed: ParsedBody): Promise<Answer> {
  const { method, path, match } = incoming;
  const fault = deps.faults.take({ method, path, route: match?.route.template ?? null, files: parsed.files.length });
  if (fault) {
    const response = fault.headers['content-type'] === 'application/json' ? JSON.parse(fault.body) : fault.body;
    return { status: fault.status, headers: fault.headers, text: fault.body, response, injected: true };
  }
  if (incoming.botToken !== null && deps.globalRateLimiter) {
    const refusal = deps.globalRateLimiter.take(incoming.botToken, path, incoming.receivedAt);
    if (refusal) return jsonAnswer(refusal.status, refusal.headers, refusal.body);
  }
  if (!match) throw errors.notFound();
  if (match.route.auth === 'bot' && !incoming.authorized) throw errors.unauthorized();
  const limit = rateLimit(deps, method, match);
  if (limit.retryAfter !== null) {
    return jsonAnswer(429, limit.headers, {
      message: 'You are being rate limited.',
      retry_after: limit.retryAfter,
      global: false,
    });
  }
  const query = Object.fromEntries(incoming.url.searchParams);
  const result = await match.route.handler({
    method,
    path,
    params: match.params,
    query,
    ...parsed,
    receivedAt: incoming.receivedAt,
  });
  if (result.body === undefined) {
    return { status: result.status, headers: limit.headers, text: null, response: null, injected: false };
  }
  return jsonAnswer(result.status, limit.headers, result.body);
}

function jsonAnswer(status: number, headers: Record<string, string>, body: unknown): Answer {
  const text = JSON.stringify(body);
  return { status, headers: { ...headers, 'content-type': 'application/json' }, text, response: body, injected: false };
}

const NO_LIMIT = { headers: {}, retryAfter: null };

/** Interaction callbacks have no bucket on Discord; every other handled route does when limits are on. */
function rateLimit(deps: HttpServerDeps, method: string, match: RouteMatch) {
  if (!deps.rateLimiter || match.route.template.endsWith('/callback')) return NO_LIMIT;
  return deps.rateLimiter.take(method, match.route.template, match.params);
}

function unexpected(logger: Logger, error: unknown): DiscordHttpError {
  logger.error({ err: error }, 'fake Discord route failed');
  const detail = error instanceof Error ? error.message : String(error);
  return new DiscordHttpError(500, 0, `500: Internal Server Error (fake Discord: ${detail})`);
}

function buildCall(incoming: Incoming, req: IncomingMessage, parsed: ParsedBody, answer: Answer): RecordedCall {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name !== 'authorization' && value !== undefined)
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    seq: incoming.seq,
    method: incoming.method,
    path: incoming.path,
    route: incoming.match?.route.template ?? null,
    params: incoming.match?.params ?? {},
    query: Object.fromEntries(incoming.url.searchParams),
    headers,
    authorized: incoming.authorized,
    body: parsed.body,
    files: parsed.files,
    receivedAt: incoming.receivedAt,
    status: answer.status,
    response: answer.response,
    injected: answer.injected,
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
