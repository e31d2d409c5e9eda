/**
 * The queue's shared state, as plain data: the waiting jobs in fair order (FairQueue's rounds), every member's jobs in
 * flight (for the per-member limit), and the jobs handed off to be carried forward (each holding a server slot, so
 * slots are counted fleet-wide). The dispatcher, intake and the attempts change it only through `JobQueue`.
 */
import { z } from 'zod';
import type { FairQueueState } from '../fair-queue.js';
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

/** The whole state; `version` guards against a state written by an incompatible release. */
export const queueStateSchema = z.object({
  waiting: z.object({
    members: z.array(
      z.tuple([
        z.string(),
        z.object({
          items: z.array(z.object({ item: queuedJobSchema, arrival: z.number() })),
          lastServedRound: z.number(),
        }),
      ]),
    ),
    front: z.array(queuedJobSchema),
    currentRound: z.number(),
    arrivals: z.number(),
  }),
  /**
   * Jobs being written by intake, by id: until when (the cell's clock: Redis's own, in a fleet) their intake may still
   * admit them. Past that, the dispatcher takes a job whose record it finds in as a stray (`readmit`), and taking it
   * in removes the entry, so an intake that comes later finds none and leaves it (`admit` says 'late'): either the
   * intake or the dispatcher queues a job, never both, and no host's clock decides which.
   */
  intake: z.record(z.string(), z.number()).default({}),
  /** Jobs not yet finished, by id: waiting or handed off (they count against their member's limit). */
  admitted: z.record(z.string(), z.object({ memberId: z.string(), at: z.number() })),
  handOffs: z.record(z.string(), handOffSchema),
  /** The next job's place in the queue order (fleet-wide). */
  nextSequence: z.number().int(),
  /** Numbers hand-off keys, so a job handed off again (after its server was lost) gets a new one. */
  nextHandOff: z.number().int(),
});
export type QueueState = z.infer<typeof queueStateSchema> & { waiting: FairQueueState<QueuedJob> };

/** An empty queue whose next job gets `nextSequence`. */
export function emptyQueueState(nextSequence = 0): QueueState {
  return {
    waiting: { members: [], front: [], currentRound: 1, arrivals: 0 },
    intake: {},
    admitted: {},
    handOffs: {},
    nextSequence,
    nextHandOff: 1,
  };
}
