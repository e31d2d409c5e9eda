/**
 * The queue's shared state in Redis, split as queue-state.ts describes: the core in one key (small JSON), the members'
 * lanes as fields of one hash (one field per member, so a change reads and writes only the lanes it touches), each
 * lane's revision in another (so a full read fetches only the lanes changed since this process last saw them), and
 * each admitted job's member in a third (so a change by job id finds its lane).
 *
 * A change is optimistic: read the core, Redis's clock (the change's `now`) and the lanes and jobs it needs in one
 * MULTI (an atomic snapshot), apply the change in TypeScript (the same code as the embedded engine's), then write
 * with a script that writes only when the core still holds what was read (compared by SHA-1). Every write changes the
 * core (its `revision`), and lanes are written only by that script, so an unchanged core means nothing the change
 * read has changed: comparing the core alone keeps each change atomic over every key it touches. When another
 * process changed it in between, the change runs again on the newer state. A change that asks for a lane or a job
 * not read yet (`Unloaded`) runs again with it read. Redis provides the atomicity; no lock of ours.
 *
 * Each write names itself (a commit id, written with it and kept a while). A write whose answer was lost with its
 * connection is sent again by the client once it reconnects, and then answers that it is done already, instead of
 * writing a second time over what other processes changed meanwhile. (WATCH/MULTI/EXEC cannot do that: a WATCH dies
 * with its connection, and the client sent the whole transaction again on the new one, unwatched: the state read
 * before the break was written back over another process's change.) Changes of one process are serialised.
 *
 * A state written whole by the previous release (one JSON value in the core's key) is read as it is, and the first
 * change writes it split, in the same compared script: a fleet upgraded in place keeps its waiting jobs.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import {
  emptyCore,
  legacyQueueStateSchema,
  memberLaneSchema,
  ownersOf,
  queueCoreSchema,
  QueueState,
  Unloaded,
  type MemberLane,
  type QueueCore,
  type StateHints,
} from './queue-state.js';
import type { SharedCell } from './shared-cell.js';

/** The key of the fleet's queue state (its core; the other parts are named after it). */
export const QUEUE_STATE_KEY = 'comfycord:fleet:queue';

/** The keys of the parts beside the core. */
export function queueStateKeys(key = QUEUE_STATE_KEY) {
  return { lanes: `${key}:lanes`, revisions: `${key}:lane-revisions`, owners: `${key}:owners` };
}

/** How often a change may lose the race before it gives up (the state is then busier than it can ever be). */
const MAX_TRIES = 100;

/** How long a write's commit id is kept: longer than any client waits to send a write again after reconnecting. */
const COMMIT_KEPT_MS = 10 * 60_000;

/**
 * KEYS: the core, the lanes, their revisions, the jobs' owners, the write's commit id. ARGV: the SHA-1 of the core read
 * ('' when there was none), the new core, how long the commit id is kept, the lanes' new revision, '1' to clear the
 * parts first (a state written anew: none yet, or the previous release's), the number of lanes written, then each
 * lane's member and JSON ('' removes it), then each job's id and member ('' removes it). 1 when written (now or by an
 * earlier sending of this same write), 0 when the core changed since it was read. A script, so the compare and every
 * write are one step no other client can come between.
 */
const WRITE = `
if redis.call('EXISTS', KEYS[5]) == 1 then return 1 end
local current = redis.call('GET', KEYS[1])
local digest = ''
if current then digest = redis.sha1hex(current) end
if digest ~= ARGV[1] then return 0 end
if ARGV[5] == '1' then redis.call('DEL', KEYS[2], KEYS[3], KEYS[4]) end
redis.call('SET', KEYS[1], ARGV[2])
local at = 7
for _ = 1, tonumber(ARGV[6]) do
  if ARGV[at + 1] == '' then
    redis.call('HDEL', KEYS[2], ARGV[at])
    redis.call('HDEL', KEYS[3], ARGV[at])
  else
    redis.call('HSET', KEYS[2], ARGV[at], ARGV[at + 1])
    redis.call('HSET', KEYS[3], ARGV[at], ARGV[4])
  end
  at = at + 2
end
while at < #ARGV do
  if ARGV[at + 1] == '' then
    redis.call('HDEL', KEYS[4], ARGV[at])
  else
    redis.call('HSET', KEYS[4], ARGV[at], ARGV[at + 1])
  end
  at = at + 2
end
redis.call('SET', KEYS[5], '1', 'PX', tonumber(ARGV[3]))
return 1`;

/** What a change read: the state built from it, and what the write compares and leaves alone. */
interface PartsRead {
  readonly state: QueueState;
  readonly now: number;
  /** The core as read (null: none), compared by the write. */
  readonly raw: string | null;
  /** Written anew: the parts are cleared first and everything is written. */
  readonly fresh: boolean;
  readonly lanes: ReadonlyMap<string, { raw: string | null; revision: string | null }>;
  readonly owners: ReadonlyMap<string, string | undefined>;
}

/** A lane as this process last saw it, with its revision. */
interface CachedLane {
  readonly revision: string;
  readonly lane: MemberLane;
}

/** The queue state kept in Redis. */
export class RedisCell implements SharedCell<QueueState> {
  readonly #keys: ReturnType<typeof queueStateKeys>;
  /** The whole state as this process last saw it: the lanes of its last full read, updated by its own changes. */
  #lanes = new Map<string, CachedLane>();
  #owners = new Map<string, string | undefined>();
  #last: QueueState = QueueState.complete(emptyCore(), []);
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly key = QUEUE_STATE_KEY,
  ) {
    this.#keys = queueStateKeys(key);
  }

  get last(): QueueState {
    return this.#last;
  }

  read(): Promise<QueueState> {
    return this.#serial(() => this.#readAll());
  }

  look<Result>(look: (state: QueueState) => Result, hints?: StateHints): Promise<Result> {
    return this.#serial(async () => {
      const wanted = wantedOf(hints);
      for (;;) {
        const read = await this.#readParts(wanted);
        try {
          return look(read.state);
        } catch (error) {
          if (!wanted.add(error)) throw error;
        }
      }
    });
  }

  change<Result>(change: (state: QueueState, now: number) => Result, hints?: StateHints): Promise<Result> {
    return this.#serial(async () => {
      const wanted = wantedOf(hints);
      for (let tries = 1; ;) {
        const read = await this.#readParts(wanted);
        let result: Result;
        try {
          result = change(read.state, read.now);
        } catch (error) {
          if (wanted.add(error)) continue;
          throw error;
        }
        if (await this.#write(read)) return result;
        if (++tries > MAX_TRIES) throw new Error(`the fleet's queue changed ${MAX_TRIES} times under one change`);
      }
    });
  }

  /** The core, Redis's clock, and the lanes and owners wanted, in one MULTI: one instant of the state. */
  async #readParts(wanted: Wanted): Promise<PartsRead> {
    const members = [...wanted.members];
    const jobs = [...wanted.jobs];
    const multi = this.redis.multi().get(this.key).time();
    if (members.length > 0) multi.hmget(this.#keys.lanes, ...members).hmget(this.#keys.revisions, ...members);
    if (jobs.length > 0) multi.hmget(this.#keys.owners, ...jobs);
    const replies = await run(multi);
    const raw = replies[0] as string | null;
    const time = replies[1] as [string, string];
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const lanesRaw = members.length > 0 ? (replies[2] as (string | null)[]) : [];
    const revisions = members.length > 0 ? (replies[3] as (string | null)[]) : [];
    const ownersRaw = jobs.length > 0 ? (replies.at(-1) as (string | null)[]) : [];
    const parsed = this.#parseCore(raw);
    if (parsed instanceof QueueState) {
      // The previous release's whole state: complete as it is; the write puts it split.
      return { state: parsed, now, raw, fresh: true, lanes: new Map(), owners: new Map() };
    }
    const fresh = raw === null;
    const lanes = new Map(
      members.map((member, index) => [member, { raw: lanesRaw[index] ?? null, revision: revisions[index] ?? null }]),
    );
    const owners = new Map(jobs.map((job, index) => [job, ownersRaw[index] ?? undefined]));
    const loaded = new Map<string, MemberLane | undefined>();
    for (const [member, lane] of lanes) loaded.set(member, fresh ? undefined : this.#parseLane(member, lane.raw));
    const known = new Map<string, string | undefined>();
    for (const [job, owner] of owners) known.set(job, fresh ? undefined : owner);
    return { state: QueueState.partial(parsed, loaded, known), now, raw, fresh, lanes, owners };
  }

  /** Writes what the change left, if the core is still as read; true when written. */
  async #write(read: PartsRead): Promise<boolean> {
    const { state } = read;
    const revision = state.core.revision + 1;
    const core: QueueCore = { ...state.core, revision };
    const laneWrites: string[] = [];
    for (const [member, lane] of state.loadedLanes) {
      const json = lane === undefined ? '' : JSON.stringify(lane);
      if (json !== (read.lanes.get(member)?.raw ?? '')) laneWrites.push(member, json);
    }
    const ownerWrites: string[] = [];
    for (const [job, owner] of state.loadedOwners) {
      if (owner !== read.owners.get(job)) ownerWrites.push(job, owner ?? '');
    }
    const commit = `${this.key}:commit:${randomUUID()}`;
    const digest = read.raw === null ? '' : createHash('sha1').update(read.raw).digest('hex');
    const { lanes, revisions, owners } = this.#keys;
    const written = await this.redis.eval(
      WRITE,
      5,
      ...[this.key, lanes, revisions, owners, commit],
      ...[
        digest,
        JSON.stringify(core),
        COMMIT_KEPT_MS,
        laneRevision(core),
        read.fresh ? '1' : '0',
        laneWrites.length / 2,
      ],
      ...laneWrites,
      ...ownerWrites,
    );
    if (written !== 1) return false;
    this.#remember(read, core);
    return true;
  }

  /** Keeps what this process wrote (and read with it) in its view of the whole state. */
  #remember(read: PartsRead, core: QueueCore): void {
    if (read.fresh) {
      this.#lanes.clear();
      this.#owners.clear();
    }
    for (const [member, lane] of read.state.loadedLanes) {
      for (const job of Object.keys(this.#lanes.get(member)?.lane.admitted ?? {})) this.#owners.delete(job);
      if (lane === undefined) {
        this.#lanes.delete(member);
        continue;
      }
      const unchanged = !read.fresh && JSON.stringify(lane) === read.lanes.get(member)?.raw;
      const revision = unchanged ? (read.lanes.get(member)?.revision ?? '') : laneRevision(core);
      this.#lanes.set(member, { revision, lane });
      for (const job of Object.keys(lane.admitted)) this.#owners.set(job, member);
    }
    this.#view(core);
  }

  /**
   * Reads the whole state: the core and every lane's revision in one MULTI, then only the lanes whose revision this
   * process has not seen, with the core again: when the core changed in between, once more (a consistent whole).
   */
  async #readAll(): Promise<QueueState> {
    // Lanes fetched by a try whose core changed meanwhile are kept for the next try, under the revision read before
    // them (at worst older than what they hold: fetched once more later, never taken for newer than they are).
    const fetched = new Map<string, CachedLane>();
    const seen = (member: string) => fetched.get(member) ?? this.#lanes.get(member);
    for (let tries = 1; ; tries++) {
      const [raw, revisions] = (await run(this.redis.multi().get(this.key).hgetall(this.#keys.revisions))) as [
        string | null,
        Record<string, string>,
      ];
      const parsed = this.#parseCore(raw);
      if (parsed instanceof QueueState) {
        this.#lanes.clear();
        this.#owners.clear();
        this.#last = parsed;
        return parsed;
      }
      const stale = Object.keys(revisions).filter((member) => seen(member)?.revision !== revisions[member]);
      if (stale.length > 0) {
        const [lanes, again] = (await run(
          this.redis
            .multi()
            .hmget(this.#keys.lanes, ...stale)
            .get(this.key),
        )) as [(string | null)[], string | null];
        stale.forEach((member, index) => {
          const lane = this.#parseLane(member, lanes[index] ?? null);
          if (lane === undefined) fetched.delete(member);
          else fetched.set(member, { revision: revisions[member] ?? '', lane });
        });
        if (again !== raw) {
          if (tries >= MAX_TRIES) throw new Error(`the fleet's queue changed ${MAX_TRIES} times under one read`);
          continue;
        }
      }
      const next = new Map<string, CachedLane>();
      for (const member of Object.keys(revisions)) {
        const lane = seen(member);
        if (lane !== undefined) next.set(member, lane);
      }
      this.#lanes = next;
      this.#owners = ownersOf([...next].map(([member, { lane }]) => [member, lane]));
      this.#view(parsed);
      return this.#last;
    }
  }

  #view(core: QueueCore): void {
    this.#last = QueueState.complete(
      core,
      [...this.#lanes].map(([member, { lane }]) => [member, lane]),
      this.#owners,
    );
  }

  /** The core read; a `QueueState` when the key holds the previous release's whole state. */
  #parseCore(raw: string | null): QueueCore | QueueState {
    if (raw === null) return emptyCore();
    const value = parseJson(raw);
    const core = queueCoreSchema.safeParse(value);
    if (core.success) return core.data;
    const legacy = legacyQueueStateSchema.safeParse(value);
    if (legacy.success) return QueueState.fromLegacy(legacy.data);
    return this.#unreadable(this.key);
  }

  #parseLane(member: string, raw: string | null): MemberLane | undefined {
    if (raw === null) return undefined;
    const lane = memberLaneSchema.safeParse(parseJson(raw));
    if (lane.success) return lane.data;
    return this.#unreadable(`${this.#keys.lanes} ${member}`);
  }

  #unreadable(where: string): never {
    // Written by an incompatible release, or by hand: an error, not a silent reset that would forget every job.
    this.logger.error({ key: where }, 'the fleet queue state in Redis is unreadable');
    throw new Error(`the fleet queue state at ${where} is unreadable`);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(work, work);
    this.#chain = next.catch(() => undefined);
    return next;
  }
}

/** The lanes and jobs a change wants read; grows when it finds it wanted more. */
interface Wanted {
  readonly members: Set<string>;
  readonly jobs: Set<string>;
  /** Adds what an `Unloaded` asked for; false for any other error, or one that asks for nothing new. */
  add(error: unknown): boolean;
}

function wantedOf(hints: StateHints | undefined): Wanted {
  const members = new Set((hints?.members ?? []).filter((member) => member !== undefined));
  const jobs = new Set(hints?.jobs ?? []);
  return {
    members,
    jobs,
    add(error) {
      if (!(error instanceof Unloaded)) return false;
      const before = members.size + jobs.size;
      for (const member of error.members) members.add(member);
      for (const job of error.jobs) jobs.add(job);
      return members.size + jobs.size > before;
    },
  };
}

/** What a lane written with `core` is marked with (see `QueueCore.epoch`). */
function laneRevision(core: QueueCore): string {
  return `${core.epoch}:${core.revision}`;
}

async function run(multi: ChainableCommander): Promise<unknown[]> {
  const replies = await multi.exec();
  if (replies === null) throw new Error('a queue read was aborted');
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
