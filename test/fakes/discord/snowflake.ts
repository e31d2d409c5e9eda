/**
 * Discord-style snowflakes: a millisecond timestamp since the Discord epoch in the top 42 bits, then worker, process
 * and a per-millisecond increment. Ids made now have 19 digits, like real ones, and sort by creation time.
 */
const DISCORD_EPOCH = 1_420_070_400_000n;

/** Makes unique, time-ordered snowflakes. */
export class SnowflakeGenerator {
  private increment = 0n;

  constructor(
    private readonly workerId = 1n,
    private readonly processId = 0n,
  ) {}

  /**
   * A new snowflake Discord would route to shard `shard` of `count`, (id >> 22) % count: its time is now or up to
   * count - 1 ms later.
   */
  nextOnShard(shard: number, count: number, at: number = Date.now()): string {
    const offset = (((shard - (at - Number(DISCORD_EPOCH))) % count) + count) % count;
    return this.next(at + offset);
  }

  /** A new snowflake for the given time (default: now). */
  next(at: number = Date.now()): string {
    this.increment = (this.increment + 1n) & 0xfffn;
    const timestamp = BigInt(at) - DISCORD_EPOCH;
    return ((timestamp << 22n) | (this.workerId << 17n) | (this.processId << 12n) | this.increment).toString();
  }
}

/** The creation time (ms since 1970) encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}
