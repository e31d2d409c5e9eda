/**
 * The web face's live events across a fleet: every process hears the events of every web job, wherever it runs, so a
 * caller may follow a generation's stream on any process (behind a load balancer that is not sticky).
 *
 * Redis pub/sub, not BullMQ's QueueEvents: these events are fleeting (a progress step, a preview), nobody needs one
 * that was missed (the stream's state and end come from the store), and a BullMQ job is a hand-off, not a generation
 * (one generation is handed off more than once, and the position events come from the dispatcher, not from its
 * carrier). QueueEvents reads a Redis stream kept in Redis; pub/sub keeps nothing: a message goes to the processes
 * listening now, and Redis cuts off a subscriber that falls too far behind rather than buffering for it.
 *
 * Bounded:
 * - the state events (queued, running, progress, end) go on one channel every process hears; they are small. An end
 *   carries no data: a process with a stream of that generation reads its end from the store, others forget it;
 * - previews go on a channel of their own generation, which a process hears only while one of its streams follows
 *   it, at most one every `previewIntervalMs` per generation;
 * - the publishing connection has no offline queue: while Redis is away, events are dropped, not piled up in memory.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { LiveHub } from './live.js';
import type { GenerationView } from './schemas.js';

/** Where the web face publishes a generation's live events: the local hub, and in a fleet every other process's. */
export interface LiveRelay {
  publish(id: string, event: string, data: Record<string, unknown>): void;
  /** This process hears the generation's previews from wherever it runs until the returned stop is called. */
  watch(id: string): () => void;
  close(): Promise<void>;
}

/** One process: the hub is all there is. */
export function localRelay(hub: LiveHub): LiveRelay {
  return {
    publish: (id, event, data) => hub.publish(id, event, data),
    watch: () => () => undefined,
    close: async () => undefined,
  };
}

const STATE_CHANNEL = 'comfycord:web:live';
const previewChannel = (id: string) => `comfycord:web:preview:${id}`;
const PREVIEW_PREFIX = previewChannel('');

/** The default pause between two previews of one generation sent to the fleet. */
export const DEFAULT_PREVIEW_INTERVAL_MS = 500;

export interface RedisLiveRelayOptions {
  readonly url: string;
  readonly hub: LiveHub;
  /** The generation's end as the store has it; undefined while it has none. */
  readonly endOf: (id: string) => Promise<GenerationView | undefined>;
  readonly logger: Logger;
  readonly previewIntervalMs?: number;
}

interface Message {
  /** The relay that sent it (its own messages come back to it and are dropped). */
  readonly from: string;
  readonly id: string;
  readonly event: string;
  readonly data?: Record<string, unknown>;
}

/** The fleet's relay, over Redis pub/sub. */
export class RedisLiveRelay implements LiveRelay {
  readonly #options: RedisLiveRelayOptions;
  readonly #self = randomUUID();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  /** Streams of this process following each generation's previews. */
  readonly #watchers = new Map<string, number>();
  /** When each generation's last preview went out (dropped at its end). */
  readonly #previewSentAt = new Map<string, number>();

  constructor(options: RedisLiveRelayOptions) {
    this.#options = options;
    const log = (error: unknown) => options.logger.debug({ err: error }, 'live events: Redis connection error');
    // No offline queue: an event published while Redis is away fails at once and is dropped, not kept in memory.
    this.#publisher = new Redis(options.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.#subscriber = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: null });
    this.#publisher.on('error', log);
    this.#subscriber.on('error', log);
    this.#subscriber.on('message', (channel: string, text: string) => this.#heard(channel, text));
  }

  /** Connects and starts hearing the fleet's events. */
  async start(): Promise<void> {
    await Promise.all([this.#publisher.connect(), this.#subscriber.connect()]);
    await this.#subscriber.subscribe(STATE_CHANNEL);
  }

  publish(id: string, event: string, data: Record<string, unknown>): void {
    this.#options.hub.publish(id, event, data);
    if (event === 'preview') {
      const now = Date.now();
      const interval = this.#options.previewIntervalMs ?? DEFAULT_PREVIEW_INTERVAL_MS;
      if (now - (this.#previewSentAt.get(id) ?? 0) < interval) return;
      this.#previewSentAt.set(id, now);
      // A generation whose end this process never publishes (its carrier changed) leaves its time behind: pruned.
      if (this.#previewSentAt.size > 256) {
        for (const [other, at] of this.#previewSentAt) if (now - at > 60_000) this.#previewSentAt.delete(other);
      }
      return this.#send(previewChannel(id), { from: this.#self, id, event, data });
    }
    if (event === 'end') {
      this.#previewSentAt.delete(id);
      return this.#send(STATE_CHANNEL, { from: this.#self, id, event });
    }
    this.#send(STATE_CHANNEL, { from: this.#self, id, event, data });
  }

  watch(id: string): () => void {
    const count = this.#watchers.get(id) ?? 0;
    this.#watchers.set(id, count + 1);
    if (count === 0) void this.#subscriber.subscribe(previewChannel(id)).catch(() => undefined);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      const left = (this.#watchers.get(id) ?? 1) - 1;
      if (left > 0) return void this.#watchers.set(id, left);
      this.#watchers.delete(id);
      void this.#subscriber.unsubscribe(previewChannel(id)).catch(() => undefined);
    };
  }

  /**
   * Cuts both connections at once. Nothing is owed to Redis (events are fleeting, a subscription ends with its
   * connection), and a polite QUIT waits for an answer a Redis that stopped answering never sends: a shutdown must not.
   */
  async close(): Promise<void> {
    this.#watchers.clear();
    this.#subscriber.disconnect();
    this.#publisher.disconnect();
  }

  #send(channel: string, message: Message): void {
    if (this.#publisher.status !== 'ready') return;
    this.#publisher.publish(channel, JSON.stringify(message)).catch((error: unknown) => {
      this.#options.logger.debug({ err: error, generation: message.id }, 'a live event was not sent to the fleet');
    });
  }

  #heard(channel: string, text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (message.from === this.#self || typeof message.id !== 'string') return;
    const { hub } = this.#options;
    if (channel.startsWith(PREVIEW_PREFIX) && message.event !== 'preview') return;
    if (message.event !== 'end') return hub.publish(message.id, message.event, message.data ?? {});
    if (!hub.watched(message.id)) return hub.forget(message.id);
    void this.#options
      .endOf(message.id)
      .then((end) => {
        if (end !== undefined) hub.publish(message.id, 'end', end);
      })
      .catch((error: unknown) => {
        // The stream reads the store again by itself a little later.
        this.#options.logger.warn({ err: error, generation: message.id }, 'could not read the end of a generation');
      });
  }
}
