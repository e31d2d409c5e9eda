/**
 * Discord's global rate limit: 50 requests per second per bot token, whatever the route and however many processes
 * or connections send them. Interaction endpoints (`/interactions/…/callback` and the interaction webhooks
 * `/webhooks/{application id}/{token}…`) are not bound to it, as Discord documents. A request over the limit gets a
 * 429 with `global: true` and the headers Discord sends with it (`Retry-After` in whole seconds, rounded up,
 * `X-RateLimit-Global`, `X-RateLimit-Scope: global`), and the body's `retry_after` to the millisecond.
 *
 * The window is fixed: it opens with a token's first request and lasts one second, as discord.js's own global
 * limiter counts. A bot that never sends more than 50 requests within any one second is never refused.
 */

/** How many requests a bot may send per window. */
export interface GlobalRateLimitSettings {
  readonly requestsPerSecond: number;
}

/** A refusal: what the fake answers with. */
export interface GlobalRateLimitRefusal {
  readonly status: 429;
  readonly headers: Record<string, string>;
  readonly body: { readonly message: string; readonly retry_after: number; readonly global: true };
}

interface Window {
  count: number;
  endsAt: number;
}

const WINDOW_MS = 1000;

/** Counts each bot token's requests. */
export class GlobalRateLimiter {
  private readonly windows = new Map<string, Window>();
  private refusedCount = 0;

  constructor(private readonly settings: GlobalRateLimitSettings) {}

  /** How many requests were refused so far. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Counts a request of the bot `token` to `path` (under /api/v10); a refusal, or null when it may proceed. */
  take(token: string, path: string, now = Date.now()): GlobalRateLimitRefusal | null {
    if (isExemptFromGlobalLimit(path)) return null;
    let window = this.windows.get(token);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + WINDOW_MS };
      this.windows.set(token, window);
    }
    if (window.count < this.settings.requestsPerSecond) {
      window.count += 1;
      return null;
    }
    this.refusedCount += 1;
    const retryAfter = (window.endsAt - now) / 1000;
    return {
      status: 429,
      headers: {
        'retry-after': String(Math.ceil(retryAfter)),
        'x-ratelimit-global': 'true',
        'x-ratelimit-scope': 'global',
      },
      body: { message: 'You are being rate limited.', retry_after: Number(retryAfter.toFixed(3)), global: true },
    };
  }
}

/** Interaction callbacks and interaction webhooks, which Discord leaves out of the global limit. */
export function isExemptFromGlobalLimit(path: string): boolean {
  return /^\/interactions\/\d+\/[^/]+\/callback$/.test(path) || /^\/webhooks\/\d+\/[^/]+(\/|$)/.test(path);
}
