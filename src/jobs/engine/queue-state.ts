/**
 * The queue's shared state: the waiting jobs in fair order (FairQueue's rounds), every member's jobs in flight (for
 * the per-member limit), and the jobs handed off to be carried forward (each holding a server slot, so slots are
 * counted fleet-wide). The dispatcher, intake and the attempts change it only through `JobQueue`.
 *
 * It is split so that a change costs what it touches, not the whole queue: a small core (rounds, arrivals, sequence
 * numbers, the front lane, intake entries, hand-offs: bounded by the servers' slots and the intakes under way, never
 * by the queue's length) and one lane per member (the member's waiting jobs, its last served round, its jobs in
 * flight). An admission, a dispatch or a cancel touches the core and one lane. A fleet keeps each part in Redis and
 * reads only the lanes a change asks for (redis-cell.ts); the embedded engine holds every lane in memory. The code
 * that changes the state is the same for both: it asks for a lane or a job's member, and a state that has not loaded
 * it yet says so (`Unloaded`), so the cell loads it and runs the change again.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { FairQueue } from '../fair-queue.js';
import { jobFailureSchema } from '../model.js';

/** A waiting job, as the queue knows it. */
export interface QueuedJob {
  readonly id: string;
  readonly memberId: string;
  readonly workflow: string;
  readonly createdAt: number;
}

/** How a job that was still waiting ended (cancelled by its member, or failed by a long outage). */
export const waitingEndSchema = z.union([
  z.object({ state: z.literal('cancelled') }),
  z.object({ state: z.literal('failed'), ...jobFailureSchema.shape }),
]);
export type WaitingEnd = z.infer<typeof waitingEndSchema>;

/** A job handed off to be carried forward by some process (run on `server`, or only delivered). */
export const handOffSchema = z.object({
  /** The engine's id for this hand-off (the BullMQ job id in the fleet): the same id is never handed off twice. */
  key: z.string(),
  memberId: z.string(),
  workflow: z.string(),
  /** The server whose slot it holds; absent for a job that ended while waiting (it is only to be delivered). */
  server: z.string().optional(),
  /** Set when the job ended while waiting; its record is written terminal by whoever carries it forward. */
  ended: waitingEndSchema.optional(),
  /** When the server began executing it (a job shows as running from then on). */
  startedAt: z.number().optional(),
  /** The process that carries it now (its name), for the fleet's views. */
  process: z.string().optional(),
  at: z.number(),
});
export type HandOff = z.infer<typeof handOffSchema>;

const queuedJobSchema = z.object({ id: z.string(), memberId: z.string(), workflow: z.string(), createdAt: z.number() });
const laneItemsSchema = z.array(z.object({ item: queuedJobSchema, arrival: z.number() }));

/** The part every change may touch; its size is bounded by slots and intakes under way, not by waiting jobs. */
export const queueCoreSchema = z.object({
  /** The split layout (a state of the previous release, one whole value, is migrated: `fromLegacy`). */
  format: z.literal(2),
  /** Changed by every write: a fleet's write compares the core alone, and that covers the lanes it changes too. */
  revision: z.number().int(),
  /**
   * Names this state since it was written anew (Redis lost it, or it was migrated): a lane's revision is kept with it,
   * so a process's copy of a lane from before never passes for one written after under the same number.
   */
  epoch: z.string(),
  currentRound: z.number(),
  arrivals: z.number(),
  /** How many jobs wait in the members' lanes (the front's are its length): the queue length, without the lanes. */
  laned: z.number().int(),
  /** Jobs handed back by a lost server, ahead of every round (FairQueue's front). */
  front: z.array(queuedJobSchema),
  /**
   * Jobs being written by intake, by id: until when (the cell's clock: Redis's own, in a fleet) their intake may still
   * admit them. Past that, the dispatcher takes a job whose record it finds in as a stray (`readmit`), and taking it
   * in removes the entry, so an intake that comes later finds none and leaves it (`admit` says 'late'): either the
   * intake or the dispatcher queues a job, never both, and no host's clock decides which.
   */
  intake: z.record(z.string(), z.number()),
  handOffs: z.record(z.string(), handOffSchema),
  /** The next job's place in the queue order (fleet-wide). */
  nextSequence: z.number().int(),
  /** Numbers hand-off keys, so a job handed off again (after its server was lost) gets a new one. */
  nextHandOff: z.number().int(),
});
export type QueueCore = z.infer<typeof queueCoreSchema>;

/** One member's lane. */
export const memberLaneSchema = z.object({
  /** Its waiting jobs, in the order they arrived (`arrival` numbers them queue-wide). */
  items: laneItemsSchema,
  /** The round the member was last served in (0: never, or long enough ago not to matter). */
  lastServedRound: z.number(),
  /** Its jobs not yet finished (waiting or handed off), with when they were admitted: its count for the limit. */
  admitted: z.record(z.string(), z.number()),
});
export type MemberLane = z.infer<typeof memberLaneSchema>;

/** The whole state as the previous release wrote it, in one value: read, and migrated by the next change. */
export const legacyQueueStateSchema = z.object({
  waiting: z.object({
    members: z.array(z.tuple([z.string(), z.object({ items: laneItemsSchema, lastServedRound: z.number() })])),
    front: z.array(queuedJobSchema),
    currentRound: z.number(),
    arrivals: z.number(),
  }),
  intake: z.record(z.string(), z.number()).default({}),
  admitted: z.record(z.string(), z.object({ memberId: z.string(), at: z.number() })),
  handOffs: z.record(z.string(), handOffSchema),
  nextSequence: z.number().int(),
  nextHandOff: z.number().int(),
});

/** What a change asked for that its state has not loaded: the cell loads it and runs the change again. */
export class Unloaded extends Error {
  constructor(
    readonly members: readonly string[],
    readonly jobs: readonly string[],
  ) {
    super('the queue state lacks a lane or a job this change needs');
  }
}

/** What a change will touch, when its caller knows (saves the cell a second read; a wrong hint costs only that). */
export interface StateHints {
  readonly members?: readonly (string | undefined)[];
  readonly jobs?: readonly string[];
}

/** An empty core whose next job gets `nextSequence`. */
export function emptyCore(nextSequence = 0): QueueCore {
  return {
    format: 2,
    revision: 0,
    epoch: randomUUID(),
    currentRound: 1,
    arrivals: 0,
    laned: 0,
    front: [],
    intake: {},
    handOffs: {},
    nextSequence,
    nextHandOff: 1,
  };
}

/**
 * The queue state: the core, and the lanes loaded. A complete state holds every lane (the embedded engine's, a
 * fleet's full read); a partial one (a fleet's change) holds the lanes and job owners it loaded, knows which of them
 * are absent, and throws `Unloaded` for the rest.
 */
export class QueueState {
  /** The lanes loaded, by member; undefined: loaded, and the member has none. */
  readonly #lanes: Map<string, MemberLane | undefined>;
  /** Admitted jobs' members, as far as loaded; undefined: loaded, and not admitted. */
  readonly #owners: Map<string, string | undefined>;

  private constructor(
    public core: QueueCore,
    lanes: Map<string, MemberLane | undefined>,
    owners: Map<string, string | undefined>,
    /** True when every lane is here (then a lane or an owner not here does not exist). */
    readonly complete: boolean,
  ) {
    this.#lanes = lanes;
    this.#owners = owners;
  }

  /** A state holding every lane there is. */
  static complete(
    core: QueueCore,
    lanes: Iterable<[string, MemberLane]>,
    owners?: Map<string, string | undefined>,
  ): QueueState {
    const all = new Map<string, MemberLane | undefined>(lanes);
    return new QueueState(core, all, owners ?? ownersOf(all), true);
  }

  /** The admitted jobs' members, as loaded (for the cell to write back). */
  get loadedOwners(): ReadonlyMap<string, string | undefined> {
    return this.#owners;
  }

  /** A state holding only the lanes and owners given (a fleet's change; see `Unloaded`). */
  static partial(
    core: QueueCore,
    lanes: Map<string, MemberLane | undefined>,
    owners: Map<string, string | undefined>,
  ): QueueState {
    return new QueueState(core, lanes, owners, false);
  }

  /** The state of the previous release's single value, complete. */
  static fromLegacy(legacy: z.infer<typeof legacyQueueStateSchema>): QueueState {
    const { waiting, intake, admitted, handOffs, nextSequence, nextHandOff } = legacy;
    const laned = waiting.members.reduce((count, [, lane]) => count + lane.items.length, 0);
    const core: QueueCore = {
      ...emptyCore(nextSequence),
      ...{ currentRound: waiting.currentRound, arrivals: waiting.arrivals, laned, front: waiting.front },
      ...{ intake, handOffs, nextHandOff },
    };
    const lanes = new Map<string, MemberLane>();
    for (const [memberId, { items, lastServedRound }] of waiting.members) {
      lanes.set(memberId, { items, lastServedRound, admitted: {} });
    }
    for (const [jobId, { memberId, at }] of Object.entries(admitted)) {
      const lane = lanes.get(memberId) ?? { items: [], lastServedRound: 0, admitted: {} };
      lane.admitted[jobId] = at;
      lanes.set(memberId, lane);
    }
    return QueueState.complete(core, lanes);
  }

  /** Jobs handed off, by id. */
  get handOffs(): Record<string, HandOff> {
    return this.core.handOffs;
  }

  /** Jobs being taken in by intake, by id (see `QueueCore.intake`). */
  get intake(): Record<string, number> {
    return this.core.intake;
  }

  /** Jobs not yet finished, by id, from the lanes loaded (every one in a complete state). */
  get admitted(): Record<string, { memberId: string; at: number }> {
    const admitted: Record<string, { memberId: string; at: number }> = {};
    for (const [memberId, lane] of this.#lanes) {
      for (const [jobId, at] of Object.entries(lane?.admitted ?? {})) admitted[jobId] = { memberId, at };
    }
    return admitted;
  }

  /** How many jobs wait, all members together. */
  get waitingCount(): number {
    return this.core.front.length + this.core.laned;
  }

  /** The lanes loaded (undefined: the member has none), for the cell to write back. */
  get loadedLanes(): ReadonlyMap<string, MemberLane | undefined> {
    return this.#lanes;
  }

  /** The member of an admitted job; undefined when it is not admitted. */
  ownerOf(jobId: string): string | undefined {
    if (this.#owners.has(jobId) || this.complete) return this.#owners.get(jobId);
    throw new Unloaded([], [jobId]);
  }

  /** The member's jobs in flight (waiting or handed off, not finished). */
  inFlight(memberId: string): number {
    return Object.keys(this.#laneOf(memberId)?.admitted ?? {}).length;
  }

  /** Counts a job against its member until `unadmit`. */
  admit(jobId: string, memberId: string, at: number): void {
    this.#ensureLane(memberId).admitted[jobId] = at;
    this.#owners.set(jobId, memberId);
  }

  /** The job no longer counts against its member. */
  unadmit(jobId: string): void {
    const memberId = this.ownerOf(jobId);
    if (memberId === undefined) return;
    const lane = this.#laneOf(memberId);
    if (lane !== undefined) delete lane.admitted[jobId];
    this.#forget(this.#owners, jobId);
    this.forgetIfIdle(memberId);
  }

  /**
   * Runs `operation` on the fair queue of the front and the given members' lanes (all a push, take or remove of their
   * jobs touches: FairQueue's own logic, so the order is exactly its), and keeps what it leaves.
   */
  withFair<Result>(
    memberIds: readonly (string | undefined)[],
    operation: (fair: FairQueue<QueuedJob>) => Result,
  ): Result {
    const members = [...new Set(memberIds.filter((id) => id !== undefined))];
    const before = new Map(members.map((memberId) => [memberId, this.#laneOf(memberId)]));
    const fair = FairQueue.fromState<QueuedJob>({
      members: [...before].flatMap(([memberId, lane]) =>
        lane === undefined ? [] : [[memberId, { items: lane.items, lastServedRound: lane.lastServedRound }]],
      ),
      front: this.core.front,
      currentRound: this.core.currentRound,
      arrivals: this.core.arrivals,
    });
    const result = operation(fair);
    const after = fair.toState();
    const kept = new Map(after.members);
    for (const memberId of kept.keys()) {
      // A lane the caller did not name would be lost here: a mistake in the change, not a state to write.
      if (!before.has(memberId)) throw new Error(`a change of the fair queue touched an unnamed lane (${memberId})`);
    }
    for (const [memberId, lane] of before) {
      const next = kept.get(memberId);
      // FairQueue forgets a member with nothing waiting whose last turn no longer matters: the same as no lane.
      const items = next?.items ?? [];
      this.core.laned += items.length - (lane?.items.length ?? 0);
      if (lane === undefined && next === undefined) continue;
      const updated = this.#ensureLane(memberId);
      updated.items = items;
      updated.lastServedRound = next?.lastServedRound ?? 0;
      this.forgetIfIdle(memberId);
    }
    this.core.front = after.front;
    this.core.currentRound = after.currentRound;
    this.core.arrivals = after.arrivals;
    return result;
  }

  /** The whole fair queue (a complete state only: the order needs every lane). */
  fairQueue(): FairQueue<QueuedJob> {
    if (!this.complete) throw new Error('the fair order needs every lane');
    return FairQueue.fromState<QueuedJob>({
      members: [...this.#lanes].flatMap(([memberId, lane]) =>
        lane === undefined ? [] : [[memberId, { items: lane.items, lastServedRound: lane.lastServedRound }]],
      ),
      front: this.core.front,
      currentRound: this.core.currentRound,
      arrivals: this.core.arrivals,
    });
  }

  /** Every waiting job, front first, then lane by lane (not in serving order). */
  waitingJobs(): QueuedJob[] {
    const laned = [...this.#lanes.values()].flatMap((lane) => lane?.items.map(({ item }) => item) ?? []);
    return [...this.core.front, ...laned];
  }

  /** Members whose lane is no different from none (nothing waiting or in flight, their turn past): to be dropped. */
  idleMembers(): string[] {
    return [...this.#lanes].flatMap(([memberId, lane]) => (lane !== undefined && this.#idle(lane) ? [memberId] : []));
  }

  /** Drops the member's lane when it is no different from none (so lanes do not pile up for every member ever seen). */
  forgetIfIdle(memberId: string): void {
    const lane = this.#laneOf(memberId);
    if (lane !== undefined && this.#idle(lane)) this.#forget(this.#lanes, memberId);
  }

  /** A complete state drops the entry; a partial one keeps it as known absent (the cell removes it in Redis). */
  #forget<Value>(entries: Map<string, Value | undefined>, key: string): void {
    if (this.complete) entries.delete(key);
    else entries.set(key, undefined);
  }

  /** Becomes `other` (the embedded engine's rebuild at start). */
  assign(other: QueueState): void {
    this.core = other.core;
    this.#lanes.clear();
    this.#owners.clear();
    for (const [memberId, lane] of other.#lanes) this.#lanes.set(memberId, lane);
    for (const [jobId, memberId] of other.#owners) this.#owners.set(jobId, memberId);
  }

  #idle(lane: MemberLane): boolean {
    // A lane served before the current round places its next job in the current round, as a new lane would.
    return (
      lane.items.length === 0 &&
      Object.keys(lane.admitted).length === 0 &&
      lane.lastServedRound < this.core.currentRound
    );
  }

  #laneOf(memberId: string): MemberLane | undefined {
    if (this.#lanes.has(memberId) || this.complete) return this.#lanes.get(memberId);
    throw new Unloaded([memberId], []);
  }

  #ensureLane(memberId: string): MemberLane {
    let lane = this.#laneOf(memberId);
    if (lane === undefined) {
      lane = { items: [], lastServedRound: 0, admitted: {} };
      this.#lanes.set(memberId, lane);
    }
    return lane;
  }
}

/** Each admitted job's member, from the lanes. */
export function ownersOf(lanes: Iterable<[string, MemberLane | undefined]>): Map<string, string | undefined> {
  const owners = new Map<string, string | undefined>();
  for (const [memberId, lane] of lanes)
    for (const jobId of Object.keys(lane?.admitted ?? {})) owners.set(jobId, memberId);
  return owners;
}

/** An empty queue (complete: no lanes at all) whose next job gets `nextSequence`. */
export function emptyQueueState(nextSequence = 0): QueueState {
  return QueueState.complete(emptyCore(nextSequence), []);
}
