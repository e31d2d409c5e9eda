/**
 * Samples what each ComfyUI server holds (running and pending prompts, from its `/queue`) at a fixed interval, with
 * how many jobs still wait in the bot (sent but not yet received by any server).
 */
import { request } from 'undici';
import { z } from 'zod';

const queueSchema = z.object({ queue_running: z.array(z.unknown()), queue_pending: z.array(z.unknown()) });

/** One sample: per server (in the order given), prompts running and pending; and jobs waiting in the bot. */
export interface OccupancySample {
  readonly at: number;
  readonly running: readonly number[];
  readonly pending: readonly number[];
  readonly waiting: number;
}

/** Samples until stopped. */
export class OccupancySampler {
  readonly samples: OccupancySample[] = [];
  #stopped = false;
  readonly #done: Promise<void>;

  /** Starts sampling `urls` every `intervalMs`; `waiting()` says how many jobs the bot has not handed out yet. */
  constructor(urls: readonly string[], waiting: () => number, intervalMs = 20) {
    this.#done = this.#loop(urls, waiting, intervalMs);
  }

  /** Stops and resolves once the last sample is in. */
  async stop(): Promise<OccupancySample[]> {
    this.#stopped = true;
    await this.#done;
    return this.samples;
  }

  async #loop(urls: readonly string[], waiting: () => number, intervalMs: number): Promise<void> {
    while (!this.#stopped) {
      const started = Date.now();
      const queues = await Promise.all(urls.map(readQueue));
      this.samples.push({
        at: started,
        running: queues.map((queue) => queue.queue_running.length),
        pending: queues.map((queue) => queue.queue_pending.length),
        waiting: waiting(),
      });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))));
    }
  }
}

async function readQueue(url: string): Promise<z.infer<typeof queueSchema>> {
  const response = await request(`${url}/queue`);
  const parsed = queueSchema.safeParse(await response.body.json());
  if (!parsed.success) throw new Error(`unexpected /queue from ${url}: ${parsed.error.message}`);
  return parsed.data;
}

/** For each server: the share of samples taken while jobs waited in which it was running a prompt. */
export function busyWhileWaiting(samples: readonly OccupancySample[], servers: number): number[] {
  const whileWaiting = samples.filter((sample) => sample.waiting > 0);
  return Array.from({ length: servers }, (_, index) => {
    if (whileWaiting.length === 0) return Number.NaN;
    return whileWaiting.filter((sample) => (sample.running[index] ?? 0) > 0).length / whileWaiting.length;
  });
}
