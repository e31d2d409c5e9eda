/**
 * What is happening to web generations right now, for the event streams: the queue position, the sampler progress,
 * the newest preview, and a short log of numbered events so a client that reconnects with `Last-Event-ID` gets what it
 * missed. Only fleeting state lives here; everything that must survive a restart is in the store.
 */

/** One server-sent event. */
export interface LiveEvent {
  readonly id: number;
  readonly event: string;
  readonly data: string;
}

type Subscriber = (event: LiveEvent) => void;

interface LiveEntry {
  position?: number;
  progress?: { value: number; max: number };
  preview?: string;
  readonly log: LiveEvent[];
  next: number;
  readonly subscribers: Set<Subscriber>;
  forget?: NodeJS.Timeout;
}

/** Events kept per generation for resuming streams (previews are not kept: the newest one is sent instead). */
const LOG_LENGTH = 64;

/** How long an ended generation's live state stays, for streams that reconnect right after the end. */
const KEEP_AFTER_END_MS = 60_000;

/** The live state of every generation in flight. */
export class LiveHub {
  readonly #entries = new Map<string, LiveEntry>();

  /** Publishes an event to the generation's subscribers and notes what it says. */
  publish(id: string, event: string, data: Record<string, unknown>): void {
    const entry = this.#entry(id);
    if (event === 'queued') entry.position = Number(data['position']);
    if (event === 'running') entry.position = undefined;
    if (event === 'progress') entry.progress = { value: Number(data['value']), max: Number(data['max']) };
    if (event === 'preview') entry.preview = String(data['image']);
    const live: LiveEvent = { id: entry.next++, event, data: JSON.stringify(data) };
    if (event !== 'preview') {
      entry.log.push(live);
      if (entry.log.length > LOG_LENGTH) entry.log.shift();
    }
    for (const subscriber of entry.subscribers) subscriber(live);
    if (event === 'end') {
      clearTimeout(entry.forget);
      entry.forget = setTimeout(() => this.#entries.delete(id), KEEP_AFTER_END_MS);
      entry.forget.unref();
    }
  }

  /** What the generation's stream has said lately. */
  state(id: string): { position?: number; progress?: { value: number; max: number }; preview?: string } {
    const entry = this.#entries.get(id);
    return { position: entry?.position, progress: entry?.progress, preview: entry?.preview };
  }

  /** The id of the generation's newest event (0 before any). */
  lastId(id: string): number {
    return (this.#entries.get(id)?.next ?? 1) - 1;
  }

  /**
   * Subscribes to a generation; with `lastEventId`, also returns the events after it when the log still holds them
   * all (`undefined` when it does not: the caller sends the whole state instead).
   */
  subscribe(
    id: string,
    subscriber: Subscriber,
    lastEventId?: number,
  ): { missed: LiveEvent[] | undefined; unsubscribe: () => void } {
    const entry = this.#entry(id);
    entry.subscribers.add(subscriber);
    let missed: LiveEvent[] | undefined;
    if (lastEventId !== undefined && lastEventId < entry.next) {
      const first = entry.log[0];
      const complete = first === undefined || first.id <= lastEventId + 1;
      missed = complete ? entry.log.filter((event) => event.id > lastEventId) : undefined;
    }
    const unsubscribe = () => {
      entry.subscribers.delete(subscriber);
      if (entry.subscribers.size === 0 && entry.next === 1) this.#entries.delete(id);
    };
    return { missed, unsubscribe };
  }

  /** Drops every subscriber (the server is closing). */
  close(): void {
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.forget);
      entry.subscribers.clear();
    }
    this.#entries.clear();
  }

  #entry(id: string): LiveEntry {
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = { log: [], next: 1, subscribers: new Set() };
      this.#entries.set(id, entry);
    }
    return entry;
  }
}
