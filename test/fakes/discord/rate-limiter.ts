/**
 * Optional per-route rate limits, shaped like Discord's: each bucket (method, route and major parameter) allows
 * `limit` calls per window; every answer carries the X-RateLimit-* headers discord.js uses to pace itself, and a
 * call over the limit gets a 429. With it on, a test can check that the bot never trips a limit.
 */

/** How many calls a bucket allows per window. */
export interface RateLimitSettings {
  readonly limit: number;
  readonly windowMs: number;
}

/** What the limiter decided for one call. */
export interface RateLimitDecision {
  readonly headers: Record<string, string>;
  /** Seconds to wait when the call is over the limit; null when it may proceed. */
  readonly retryAfter: number | null;
}

interface Bucket {
  count: number;
  resetAt: number;
}

/** Counts calls per bucket. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly settings: RateLimitSettings) {}

  /** Counts a call to `route` (with its path parameters) and returns its headers and verdict. */
  take(method: string, route: string, params: Readonly<Record<string, string>>, now = Date.now()): RateLimitDecision {
    const major = params.channelId ?? params.guildId ?? params.token ?? params.applicationId ?? '';
    const key = `${method} ${route} ${major}`;
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { count: 0, resetAt: now + this.settings.windowMs };
      this.buckets.set(key, bucket);
    }
    bucket.count += 1;
    const resetAfter = (bucket.resetAt - now) / 1000;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(this.settings.limit),
      'x-ratelimit-remaining': String(Math.max(this.settings.limit - bucket.count, 0)),
      'x-ratelimit-reset': (bucket.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': Buffer.from(`${method} ${route}`).toString('hex').slice(0, 32),
    };
    if (bucket.count <= this.settings.limit) return { headers, retryAfter: null };
    return {
      headers: { ...headers, 'retry-after': resetAfter.toFixed(3), 'x-ratelimit-scope': 'user' },
      retryAfter: resetAfter,
    };
  }
}
