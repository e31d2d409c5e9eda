/**
 * Sharding as Discord's Gateway does it: `/gateway/bot` recommends a shard count (about one shard per 1,000 guilds)
 * and counts session starts (IDENTIFYs) against a daily budget; a shard that would hold more than 2,500 guilds is
 * refused with close code 4011 ("Sharding required"). Which shard gets a guild's events is `shardOf` (gateway-protocol).
 */

/** How the fake shards; every setting has Discord's value as its default. */
export interface ShardingSettings {
  /** Guilds per shard `/gateway/bot` recommends (Discord: about 1,000). */
  readonly recommendedGuildsPerShard?: number;
  /** Guilds one shard may hold before IDENTIFY is closed with 4011 (Discord: 2,500). */
  readonly maxGuildsPerShard?: number;
  /** IDENTIFYs allowed per 5 s (`max_concurrency`; Discord: 1, more only for very large bots). */
  readonly maxConcurrency?: number;
  /** Session starts allowed per day (Discord: 1,000). */
  readonly sessionStartsPerDay?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** What `/gateway/bot` answers besides the URL. */
export interface GatewayBotInfo {
  readonly shards: number;
  readonly session_start_limit: {
    readonly total: number;
    readonly remaining: number;
    readonly reset_after: number;
    readonly max_concurrency: number;
  };
}

/** The recommendation, the 2,500-guild rule and the daily budget of session starts. */
export class ShardingRules {
  readonly maxGuildsPerShard: number;
  private readonly recommendedGuildsPerShard: number;
  private readonly maxConcurrency: number;
  private readonly total: number;
  private used = 0;
  private resetAt = 0;

  constructor(settings: ShardingSettings = {}) {
    this.recommendedGuildsPerShard = settings.recommendedGuildsPerShard ?? 1000;
    this.maxGuildsPerShard = settings.maxGuildsPerShard ?? 2500;
    this.maxConcurrency = settings.maxConcurrency ?? 1;
    this.total = settings.sessionStartsPerDay ?? 1000;
  }

  /** `/gateway/bot`'s `shards` and `session_start_limit` for a bot in `guildCount` guilds. */
  gatewayBot(guildCount: number, now = Date.now()): GatewayBotInfo {
    this.rollOver(now);
    return {
      shards: Math.max(1, Math.ceil(guildCount / this.recommendedGuildsPerShard)),
      session_start_limit: {
        total: this.total,
        remaining: Math.max(this.total - this.used, 0),
        reset_after: this.used === 0 ? DAY_MS : Math.max(this.resetAt - now, 0),
        max_concurrency: this.maxConcurrency,
      },
    };
  }

  /** Counts one IDENTIFY (a RESUME is not a session start). */
  countSessionStart(now = Date.now()): void {
    this.rollOver(now);
    if (this.used === 0) this.resetAt = now + DAY_MS;
    this.used += 1;
  }

  private rollOver(now: number): void {
    if (this.used > 0 && now >= this.resetAt) this.used = 0;
  }
}
