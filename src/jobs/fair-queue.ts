/**
 * The fair queue: round-robin between members, so a member with ten queued jobs does not delay a member with one by
 * ten jobs. Pure and synchronous; the runner owns the clock and the I/O.
 *
 * Each member's waiting jobs are numbered into rounds: the first goes into the round after the last one the member
 * was served in (or the current round), the next into the round after that, and so on. Jobs run round by round;
 * within a round, in the order they arrived. Because the rounds are computed from each member's list, cancelling a
 * job moves that member's later jobs up a round, as people expect. Jobs handed back by a dead server go into a
 * separate lane ahead of every round: they already had their turn.
 */

/** What the queue needs to know of an item. */
export interface Queueable {
  readonly id: string;
  readonly memberId: string;
}

interface MemberLane<T> {
  readonly items: { item: T; arrival: number }[];
  /** The round this member was last served in; 0 when never served. */
  lastServedRound: number;
}

/**
 * The queue as plain JSON-safe data, so it can live outside the process. A change of one member's jobs needs only
 * that member's lane, the front and the round counters: the queue state rebuilds a queue of just those around each
 * change (src/jobs/engine/queue-state.ts), and one of every lane to order them all.
 */
export interface FairQueueState<T> {
  readonly members: [string, { items: { item: T; arrival: number }[]; lastServedRound: number }][];
  readonly front: T[];
  readonly currentRound: number;
  readonly arrivals: number;
}

/** A fair, round-robin queue of jobs keyed by member. */
export class FairQueue<T extends Queueable> {
  readonly #members = new Map<string, MemberLane<T>>();
  readonly #front: T[] = [];
  #currentRound = 1;
  #arrivals = 0;

  /** A queue holding exactly what `state` describes. */
  static fromState<T extends Queueable>(state: FairQueueState<T>): FairQueue<T> {
    const queue = new FairQueue<T>();
    for (const [memberId, lane] of state.members) {
      queue.#members.set(memberId, { items: [...lane.items], lastServedRound: lane.lastServedRound });
    }
    queue.#front.push(...state.front);
    queue.#currentRound = state.currentRound;
    queue.#arrivals = state.arrivals;
    return queue;
  }

  /** The queue as plain data (see `fromState`). */
  toState(): FairQueueState<T> {
    return {
      members: [...this.#members].map(([memberId, lane]) => [
        memberId,
        { items: [...lane.items], lastServedRound: lane.lastServedRound },
      ]),
      front: [...this.#front],
      currentRound: this.#currentRound,
      arrivals: this.#arrivals,
    };
  }

  /** How many items wait. */
  get size(): number {
    let count = this.#front.length;
    for (const lane of this.#members.values()) count += lane.items.length;
    return count;
  }

  /** Adds an item behind everything its member already has waiting. */
  push(item: T): void {
    const lane = this.#laneOf(item.memberId);
    lane.items.push({ item, arrival: this.#arrivals++ });
  }

  /** Puts items ahead of every round, in the order given, before anything put there earlier. */
  pushFront(...items: T[]): void {
    this.#front.unshift(...items);
  }

  /** True when the item waits here. */
  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** The waiting item with this id. */
  get(id: string): T | undefined {
    return this.ordered().find((item) => item.id === id);
  }

  /** How many items this member has waiting. */
  countFor(memberId: string): number {
    const lane = this.#members.get(memberId);
    return (lane?.items.length ?? 0) + this.#front.filter((item) => item.memberId === memberId).length;
  }

  /** Every waiting item, in the order they will be served. */
  ordered(): T[] {
    const scheduled: { item: T; round: number; arrival: number }[] = [];
    for (const lane of this.#members.values()) {
      const firstRound = Math.max(this.#currentRound, lane.lastServedRound + 1);
      lane.items.forEach(({ item, arrival }, index) => scheduled.push({ item, round: firstRound + index, arrival }));
    }
    scheduled.sort((a, b) => a.round - b.round || a.arrival - b.arrival);
    return [...this.#front, ...scheduled.map(({ item }) => item)];
  }

  /** Each waiting item's 1-based position in the order they will be served. */
  positions(): Map<string, number> {
    return new Map(this.ordered().map((item, index) => [item.id, index + 1]));
  }

  /** Takes the first item, in serving order, that `accept` accepts (e.g. one a free server can run). */
  takeFirst(accept: (item: T) => boolean = () => true): T | undefined {
    const item = this.ordered().find(accept);
    if (item !== undefined) this.take(item.id);
    return item;
  }

  /** Takes an item out to serve it, counting it as the member's turn in its round. */
  take(id: string): T | undefined {
    const frontIndex = this.#front.findIndex((item) => item.id === id);
    if (frontIndex >= 0) return this.#front.splice(frontIndex, 1)[0];
    for (const lane of this.#members.values()) {
      const index = lane.items.findIndex(({ item }) => item.id === id);
      if (index < 0) continue;
      // Serving any of a member's items uses the member's turn in its earliest round (an item may be taken out of
      // order when the ones before it cannot run anywhere yet).
      const round = Math.max(this.#currentRound, lane.lastServedRound + 1);
      const [taken] = lane.items.splice(index, 1);
      lane.lastServedRound = round;
      this.#currentRound = Math.max(this.#currentRound, round);
      this.#prune();
      return taken?.item;
    }
    return undefined;
  }

  /** Removes an item without serving it (a cancelled job); the member's later items move up. */
  remove(id: string): T | undefined {
    const frontIndex = this.#front.findIndex((item) => item.id === id);
    if (frontIndex >= 0) return this.#front.splice(frontIndex, 1)[0];
    for (const lane of this.#members.values()) {
      const index = lane.items.findIndex(({ item }) => item.id === id);
      if (index >= 0) return lane.items.splice(index, 1)[0]?.item;
    }
    return undefined;
  }

  #laneOf(memberId: string): MemberLane<T> {
    let lane = this.#members.get(memberId);
    if (lane === undefined) {
      lane = { items: [], lastServedRound: 0 };
      this.#members.set(memberId, lane);
    }
    return lane;
  }

  /** Forgets members with nothing waiting whose last turn no longer affects where their next job would go. */
  #prune(): void {
    for (const [memberId, lane] of this.#members) {
      if (lane.items.length === 0 && lane.lastServedRound < this.#currentRound) this.#members.delete(memberId);
    }
  }
}
