/**
 * Injected failures: rate limits (429 with the headers and body Discord sends), server errors, and Discord's
 * deterministic JSON errors (a status with a code: 403 50013 Missing Permissions, 413 40005 Request entity too large,
 * 404 10003 Unknown Channel, 404 10008 Unknown Message, 404 10015 Unknown Webhook…), for a number of matching calls.
 */

/** What a fault may look at: the call's method, path, route template and how many files it uploads. */
export interface FaultCall {
  readonly method: string;
  readonly path: string;
  readonly route: string | null;
  readonly files: number;
}

/** Which calls a fault hits: a route template or literal path, a pattern over the path, or a predicate. */
export type FaultMatch = string | RegExp | ((call: FaultCall) => boolean);

/** What to inject. */
export interface FaultSpec {
  /** Only calls with this HTTP method (any when omitted). */
  readonly method?: string;
  /** Only matching calls (all when omitted). A string matches the route template or the exact path. */
  readonly match?: FaultMatch;
  readonly status: number;
  /** A Discord error code: the answer is `{ message, code }` JSON with `status`, as Discord sends its errors. */
  readonly code?: number;
  /** The error's message (Discord's own wording for the common codes when omitted). */
  readonly message?: string;
  /** How many matching calls fail (default 1; `Infinity` for all). */
  readonly times?: number;
  /** For 429: seconds until retrying is allowed (default 0.05; real Discord sends whole seconds in the header). */
  readonly retryAfter?: number;
  /** For 429: a global rate limit rather than a per-route one. */
  readonly global?: boolean;
}

/** A live injected fault. */
export interface FaultHandle {
  /** How many calls it has failed so far. */
  readonly hits: number;
  /** Stops it early. */
  cancel(): void;
}

/** The response a fault produces. */
export interface FaultResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface ActiveFault {
  readonly spec: FaultSpec;
  hits: number;
  cancelled: boolean;
}

/** Holds the injected faults and answers for the calls they hit. */
export class FaultInjector {
  private readonly faults: ActiveFault[] = [];

  add(spec: FaultSpec): FaultHandle {
    const fault: ActiveFault = { spec, hits: 0, cancelled: false };
    this.faults.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      cancel: () => {
        fault.cancelled = true;
      },
    };
  }

  /** The fault response for this call, consuming one use of the first matching fault; null if none applies. */
  take(call: FaultCall): FaultResponse | null {
    const fault = this.faults.find((f) => !f.cancelled && f.hits < (f.spec.times ?? 1) && matches(f.spec, call));
    if (!fault) return null;
    fault.hits += 1;
    if (fault.spec.code !== undefined) return discordError(fault.spec.status, fault.spec.code, fault.spec.message);
    return fault.spec.status === 429
      ? rateLimited(fault.spec, call.route ?? call.path)
      : serverError(fault.spec.status);
  }
}

function matches(spec: FaultSpec, call: FaultCall): boolean {
  if (spec.method && spec.method.toUpperCase() !== call.method) return false;
  const match = spec.match;
  if (match === undefined) return true;
  if (typeof match === 'string') return match === call.route || match === call.path;
  if (match instanceof RegExp) return match.test(call.path);
  return match(call);
}

function rateLimited(spec: FaultSpec, bucketSource: string): FaultResponse {
  const retryAfter = spec.retryAfter ?? 0.05;
  const global = spec.global ?? false;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'retry-after': String(retryAfter),
    'x-ratelimit-limit': '5',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': ((Date.now() + retryAfter * 1000) / 1000).toFixed(3),
    'x-ratelimit-reset-after': retryAfter.toFixed(3),
    'x-ratelimit-bucket': Buffer.from(bucketSource).toString('hex').slice(0, 32),
    'x-ratelimit-scope': global ? 'global' : 'user',
  };
  if (global) headers['x-ratelimit-global'] = 'true';
  const body = { message: 'You are being rate limited.', retry_after: retryAfter, global };
  return { status: 429, headers, body: JSON.stringify(body) };
}

/** Discord's wording for the codes tests inject most. */
const MESSAGES: Record<number, string> = {
  10003: 'Unknown Channel',
  10008: 'Unknown Message',
  10015: 'Unknown Webhook',
  40005: 'Request entity too large',
  50001: 'Missing Access',
  50007: 'Cannot send messages to this user',
  50013: 'Missing Permissions',
  50027: 'Invalid Webhook Token',
};

function discordError(status: number, code: number, message?: string): FaultResponse {
  const body = { message: message ?? MESSAGES[code] ?? 'Error', code };
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function serverError(status: number): FaultResponse {
  if (status === 500) {
    return {
      status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: '500: Internal Server Error', code: 0 }),
    };
  }
  // Gateway errors come from Discord's edge (Cloudflare) as HTML, not JSON.
  const text = `${status} ${status === 502 ? 'Bad Gateway' : status === 503 ? 'Service Unavailable' : 'Error'}`;
  return { status, headers: { 'content-type': 'text/html' }, body: `<html><head><title>${text}</title></head></html>` };
}
