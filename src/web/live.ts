/**
 * What is happening to web generations right now, for the event streams: the queue position, the sampler progress,
 * the newest preview, and a short log of numbered events so a client that reconnects with `Last-Event-ID` gets what it
 * missed. Only fleeting state lives here; everything that must survive a restart is in the store. In a fleet the
 * hub of every process hears every web job's events, wherever it runs (live-relay.ts).
 */
import { randomBytes } from 'node:crypto';

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
  /** Set by the first `end`: whatever comes after it (the same end relayed again, a late progress) is dropped. */
  ended: boolean;
  /** When it last heard an event (for dropping entries whose end never came). */
  touchedAt: number;
}

/** Events kept per generation for resuming streams (previews are not kept: the newest one is sent instead). */
const LOG_LENGTH = 64;

/** How long an ended generation's live state stays, for streams that reconnect right after the end. */
const KEEP_AFTER_END_MS = 60_000;

/**
 * How long an entry no stream watches lives without hearing an event. Its end normally clears it; in a fleet the end
 * is a message that can be lost (the stream itself then reads the end from the store), and the entry must not stay.
 */
const IDLE_MS = 10 * 60_000;
/** The live state of every generation in flight. */
export class LiveHub {
  /** Names this hub in its event ids: numbers of another hub (another process, an earlier start) mean nothing here. */
  readonly tag = randomBytes(4).toString('hex');
  readonly #entries = new Map<string, LiveEntry>();
  #sweptAt = Date.now();

  /** Publishes an event to the generation's subscribers and notes what it says; nothing after its end. */
  publish(id: string, event: string, data: Record<string, unknown>): void {
    this.#sweepIdle();
    const entry = this.#entry(id);
    if (entry.ended) return;
    entry.touchedAt = Date.now();
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
      entry.ended = true;
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

  /** True while a stream of this process follows the generation. */
  watched(id: string): boolean {
    return (this.#entries.get(id)?.subscribers.size ?? 0) > 0;
  }

  /** Drops what the hub knows of a generation no stream follows (it ended elsewhere). */
  forget(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.subscribers.size > 0) return;
    clearTimeout(entry.forget);
    this.#entries.delete(id);
  }

  /** An event's id as sent on the stream. */
  eventId(n: number): string {
    return `${this.tag}-${n}`;
  }

  /** The number of a Last-Event-ID this hub gave out; undefined for one of another hub or none. */
  ownEventNumber(header: string | undefined): number | undefined {
    const match = /^([0-9a-f]+)-(\d+)$/.exec(header ?? '');
    if (match === null || match[1] !== this.tag) return undefined;
    const n = Number(match[2]);
    return Number.isSafeInteger(n) ? n : undefined;
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

  /** Drops, at most once a minute, the entries nobody watches that heard nothing for a long time. */
  #sweepIdle(): void {
    const now = Date.now();
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [id, entry] of this.#entries) {
      if (entry.subscribers.size === 0 && now - entry.touchedAt > IDLE_MS) {
        clearTimeout(entry.forget);
        this.#entries.delete(id);
      }
    }
  }

  #entry(id: string): LiveEntry {
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = { log: [], next: 1, subscribers: new Set(), ended: false, touchedAt: Date.now() };
      this.#entries.set(id, entry);
    }
    return entry;
  }
}
