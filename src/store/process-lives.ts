/**
 * Whether the process that wrote something down is still alive. In a fleet, what a process writes to finish a moment
 * later (a received request in the journal, a pending web generation) names its writer: the process's name and the id
 * of this start's process lease (runner-lease.ts), since a process started again under the same name is a new life
 * whose predecessor's writings are left behind. A live process takes such writings over as soon as their writer's
 * life is over, instead of after a fixed time: a process that is only slow keeps its work, however long it takes.
 *
 * A life is over when its lease is gone (not renewed for its time to live: the process was killed, or released it as
 * it stopped), when the lease is held by another life (the name was started again), or, on the same machine, as soon
 * as its pid is gone (a kill is then known at once, before the lease lapses). A process paused past its lease's time to
 * live (a Redis that did not answer) is taken for dead although it may resume: whatever it then finishes meets the
 * takeover's guards (a job is written once under the id chosen up front), as a slow process past a fixed grace did.
 *
 * What names no writer (written by a release before this one, or by one process on SQLite, whose start finishes all
 * it finds) is left behind once it is older than the caller's grace.
 */
import { z } from 'zod';
import type { Leases } from './lease.js';
import { diedOnThisMachine, processLease } from './runner-lease.js';

/** One life of a fleet process: its name and the holder id of that start's process lease. */
export const processLifeSchema = z.object({ process: z.string(), life: z.string() });
export type ProcessLife = z.infer<typeof processLifeSchema>;

/** Why something written down may be finished by another process, or false while it may not. */
export type LeftBehind = 'writer-gone' | 'grace' | false;

/** Something written down to be finished: when, and by which life (unset before this release, or embedded). */
export interface Writing {
  readonly writer?: ProcessLife | undefined;
  readonly writtenAt: number;
}

/** Reads the fleet's process leases to tell whether a life is over. */
export class ProcessLives {
  readonly #leases: Leases;

  constructor(leases: Leases) {
    this.#leases = leases;
  }

  /** True once `life` ended: its lease gone or another life's, or its pid gone on this machine. */
  async over(life: ProcessLife): Promise<boolean> {
    const holder = await this.#leases.holder(processLease(life.process));
    if (holder === undefined || holder.id !== life.life) return true;
    return diedOnThisMachine(holder);
  }

  /**
   * Whether `writing` is left for another process to finish: its writer's life is over; or, naming no writer, it is
   * at least `graceMs` old. A live writer's is never taken, however old. `seen` keeps the lives read during one pass
   * over many writings (a busy process has many in flight): each lease is read once per pass.
   */
  async leftBehind(writing: Writing, graceMs: number, seen?: Map<string, Promise<boolean>>): Promise<LeftBehind> {
    const { writer } = writing;
    if (writer === undefined) return Date.now() - writing.writtenAt >= graceMs ? 'grace' : false;
    const key = `${writer.process}\n${writer.life}`;
    let over = seen?.get(key);
    if (over === undefined) {
      over = this.over(writer);
      seen?.set(key, over);
    }
    return (await over) ? 'writer-gone' : false;
  }
}
