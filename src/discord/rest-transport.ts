/**
 * How discord.js's REST managers reach Discord: undici's `request` over one keep-alive `Agent` of ours, shared by the
 * bot's REST manager and the interaction-webhook one.
 *
 * Why not Node's `fetch` (what discord.js would be given otherwise): every call through it builds WHATWG streams,
 * `Request` and `Response` objects, about half a millisecond of CPU each. Acknowledging a burst of interactions is
 * nothing but such calls, and the bot acknowledges them one after another on one thread, so that half millisecond was
 * the largest share of what the last member of a burst waited (bench/ack.ts). `request` costs a fraction of it.
 *
 * Why not discord.js's own undici strategy: it runs on the undici that discord.js bundles, whose requests go through
 * whichever global dispatcher was installed last, and it leaves a response body unread on a 429 or 5xx, which holds
 * its connection until the garbage collector finds it. Here every body is read in full before discord.js sees the
 * response: Discord's answers are small JSON, and the connection goes straight back to the pool.
 *
 * Discord's global limit (50 requests per second per bot) is kept here too, before each request leaves, by a
 * `GlobalLimit`: in memory for one process, in Redis for a fleet (global-limit.ts). discord.js's own global count is
 * switched off on our REST managers (it would count per process, and count interaction calls Discord exempts); a global
 * 429 that comes anyway pauses every process, and discord.js waits it out and retries as it always does.
 */
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { RESTOptions, ResponseLike } from 'discord.js';
import { noFault, type FaultPoint } from '../fault-point.js';
import { countsAgainstGlobalLimit, createLocalGlobalLimit, type GlobalLimit } from './global-limit.js';

/** What discord.js calls to send one request. */
export type MakeRequest = RESTOptions['makeRequest'];
type RequestInitLike = Parameters<MakeRequest>[1];

/** The transport: `makeRequest` for REST managers, and `close` for shutdown. */
export interface DiscordTransport {
  readonly makeRequest: MakeRequest;
  close(): Promise<void>;
}

/**
 * Idle connections are kept this long (a Keep-Alive header in Discord's answers can shorten it; Discord's edge keeps
 * them 400 s). Long enough to outlast the quiet between bursts of commands, so the next burst finds its connections
 * open instead of making each one anew (a TLS handshake apiece against the real Discord).
 */
const KEEP_ALIVE_MS = 120_000;

/** How the transport is built. */
export interface DiscordTransportOptions {
  /** Testing aid (src/fault-point.ts): reached halfway through sending a finished card's files. */
  readonly fault?: FaultPoint;
  /** The bot's global limit; this process's own count (`createLocalGlobalLimit`) by default. */
  readonly globalLimit?: GlobalLimit;
}

/** Creates the transport with its own connection pool. */
export function createDiscordTransport(options: DiscordTransportOptions = {}): DiscordTransport {
  const agent = new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS });
  const fault = options.fault ?? noFault;
  const limit = options.globalLimit ?? createLocalGlobalLimit();
  return {
    makeRequest: (url, init) => send({ agent, fault, limit }, url, init),
    close: () => agent.close(),
  };
}

interface Sender {
  readonly agent: Agent;
  readonly fault: FaultPoint;
  readonly limit: GlobalLimit;
}

async function send({ agent, fault, limit }: Sender, url: string, init: RequestInitLike): Promise<ResponseLike> {
  const headers = headerRecord(init.headers);
  const body = await encodeBody(init.body, headers);
  // The slot is taken last, once the body is ready, so the request leaves at once.
  if (countsAgainstGlobalLimit(url)) await limit.take(init.signal);
  const response = await request(url, {
    dispatcher: agent,
    method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
    headers,
    body: fault === noFault || !isFinishedCardUpload(init.body, body) ? body : Readable.from(cutHalfway(body, fault)),
    signal: init.signal ?? undefined,
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode === 429 && response.headers['x-ratelimit-global'] !== undefined) {
    await limit.pause(globalRetryAfterMs(response.headers['retry-after'], bytes));
  }
  return bufferedResponse(response.statusCode, response.headers, bytes);
}

/** How long a global 429 asks to wait: the body's `retry_after` (to the millisecond), else the header's seconds. */
function globalRetryAfterMs(header: string | string[] | undefined, body: Buffer): number {
  try {
    const retryAfter = (JSON.parse(body.toString('utf8')) as { retry_after?: unknown }).retry_after;
    if (typeof retryAfter === 'number' && retryAfter > 0) return retryAfter * 1000;
  } catch {
    // Not JSON (a proxy's page): the header says it in whole seconds.
  }
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
}

/** A multipart body (files) that is not a progress card (those carry a Cancel button): a finished card's upload. */
function isFinishedCardUpload(raw: RequestInitLike['body'], body: string | Uint8Array | undefined): body is Uint8Array {
  if (!(raw instanceof FormData) || !(body instanceof Uint8Array)) return false;
  const payload = raw.get('payload_json');
  return typeof payload === 'string' && !payload.includes('"custom_id":"cancel:');
}

/** The body in two halves with the fault point between them: a kill there leaves Discord half an upload. */
async function* cutHalfway(body: Uint8Array, fault: FaultPoint): AsyncGenerator<Uint8Array> {
  const half = Math.floor(body.length / 2);
  yield body.subarray(0, half);
  // Give the first half time to leave the socket.
  await new Promise((resolve) => setTimeout(resolve, 50));
  fault('delivery:during-upload');
  yield body.subarray(half);
}

/** discord.js passes a plain record; anything else a caller might pass is copied into one. */
function headerRecord(headers: RequestInitLike['headers']): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (Array.isArray(headers) || typeof (headers as Headers).forEach === 'function') {
    return Object.fromEntries(new Headers(headers as ConstructorParameters<typeof Headers>[0]).entries());
  }
  return { ...(headers as Record<string, string>) };
}

/**
 * The body as bytes undici can send. Files come as a `FormData` of Node's own (global) classes, which this undici
 * does not take as its own; Node's `Response` encodes it into multipart bytes and the boundary its content type names.
 */
async function encodeBody(
  body: RequestInitLike['body'],
  headers: Record<string, string>,
): Promise<string | Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof FormData || body instanceof URLSearchParams || body instanceof Blob) {
    const encoded = new Response(body);
    const contentType = encoded.headers.get('content-type');
    if (contentType) headers['content-type'] = contentType;
    return new Uint8Array(await encoded.arrayBuffer());
  }
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError(`cannot send a request body of type ${Object.prototype.toString.call(body)} to Discord`);
}

/** A `ResponseLike` over a body already read. */
function bufferedResponse(
  status: number,
  rawHeaders: Record<string, string | string[] | undefined>,
  bytes: Buffer,
): ResponseLike {
  const headers = new Headers();
  for (const [name, value] of Object.entries(rawHeaders)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  // Readable more than once: discord.js hands listeners of its `response` event a copy of this object.
  let used = false;
  const take = () => {
    used = true;
    return bytes;
  };
  return {
    status,
    statusText: STATUS_CODES[status] ?? '',
    ok: status >= 200 && status < 300,
    headers,
    get bodyUsed() {
      return used;
    },
    body: null,
    arrayBuffer: async () => {
      const taken = take();
      return taken.buffer.slice(taken.byteOffset, taken.byteOffset + taken.byteLength) as ArrayBuffer;
    },
    text: async () => take().toString('utf8'),
    json: async () => JSON.parse(take().toString('utf8')) as unknown,
  };
}
