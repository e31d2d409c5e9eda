/**
 * The fleet's roll call. Every comfycord process writes a short record of itself into the shared store (who it is,
 * which Discord shards it holds, how its own health checks stand, the jobs it is running) and renews it every few
 * seconds; a process that stops takes its record out, and one that was killed leaves a record that expires. Whichever
 * process is asked, `/healthz`, `/metrics` and `/queue` read the same roll call and so describe the whole fleet.
 *
 * The records live in the store, not in memory: the fleet's state must outlive any one process. On the embedded
 * store the roll call has one name on it, which is exactly what is true.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import { runChecks, type HealthCheck } from './checks.js';

/** One process as the roll call knows it. */
export const processRecordSchema = z.object({
  /** Unique per start of a process. */
  id: z.string().min(1),
  /** What operators call it (logs, metrics labels, `/healthz`). */
  name: z.string().min(1),
  pid: z.number().int(),
  host: z.string(),
  startedAt: z.number(),
  /** When it last wrote this record. */
  heartbeatAt: z.number(),
  /** The Discord shards it connects, and of how many; `null` when it runs no gateway (`npm run web`). */
  shards: z.object({ ids: z.array(z.number().int().min(0)), count: z.number().int().min(1) }).nullable(),
  /** Its own checks as of its last heartbeat: `ok` or the reason. */
  checks: z.record(z.string(), z.string()),
  /** The jobs it is running on ComfyUI servers now. */
  running: z.array(z.object({ jobId: z.string(), memberId: z.string(), server: z.string() })),
  /** Jobs that ended in this process since it started, by outcome. */
  ended: z.object({ succeeded: z.number().int(), failed: z.number().int(), cancelled: z.number().int() }),
});

/** One process's record in the roll call. */
export type ProcessRecord = z.infer<typeof processRecordSchema>;

/** What a process reports about itself at each heartbeat. */
export interface ProcessShare {
  readonly running: ProcessRecord['running'];
  readonly ended: ProcessRecord['ended'];
}

/** This process's place in the fleet. */
export interface FleetPresence {
  /** This process's id in the roll call. */
  readonly id: string;
  readonly name: string;
  /** Every process whose record has not expired, oldest first (this one included once it has written). */
  roster(): Promise<ProcessRecord[]>;
  /** Writes this process's record now (also done every heartbeat). */
  beat(): Promise<void>;
  /** Stops the heartbeat and takes this process off the roll call. */
  leave(): Promise<void>;
}

export interface FleetPresenceOptions {
  readonly store: Store;
  readonly logger: Logger;
  /** The process's name; `<host>-<pid>` when the operator gives none. */
  readonly name?: string;
  readonly shards: ProcessRecord['shards'];
  /** The checks this process reports (the same `/healthz` runs). */
  readonly checks: Readonly<Record<string, HealthCheck>>;
  /** The jobs it runs and has ended, read at each heartbeat. */
  readonly share: () => ProcessShare;
  /** How often the record is renewed. Default 5 s; the record expires after three missed beats. */
  readonly heartbeatMs?: number;
}

const ROLL_CALL = 'fleet-processes';
const ALL = 'all';
const DEFAULT_HEARTBEAT_MS = 5_000;
/** More processes than any fleet has; the roll call's index is capped so a bug cannot grow it forever. */
const MOST_PROCESSES = 1_000;

/** Puts this process on the roll call and keeps its record fresh until `leave()`. */
export async function joinFleet(options: FleetPresenceOptions): Promise<FleetPresence> {
  const { store, logger } = options;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const ttlMs = heartbeatMs * 3;
  const records = store.collection(ROLL_CALL, processRecordSchema, { version: 1 });
  const ids = store.index(ROLL_CALL, { cap: MOST_PROCESSES, ttlMs });
  const id = randomUUID();
  const startedAt = Date.now();
  const name = options.name ?? `${hostname()}-${process.pid}`;
  let left = false;

  const beat = async () => {
    const share = options.share();
    const record: ProcessRecord = {
      id,
      name,
      pid: process.pid,
      host: hostname(),
      startedAt,
      heartbeatAt: Date.now(),
      shards: options.shards,
      checks: await runChecks(options.checks),
      running: [...share.running],
      ended: { ...share.ended },
    };
    if (left) return;
    await records.set(id, record, ttlMs);
    await ids.add(ALL, id);
  };
  // A missed beat is only a warning: the record outlives two of them, and the next beat may well succeed.
  const timer = setInterval(() => {
    beat().catch((error: unknown) => {
      if (!left) logger.warn({ err: error }, 'could not renew this process in the fleet roll call');
    });
  }, heartbeatMs).unref();
  await beat();
  logger.info({ process: name, id, shards: options.shards }, 'joined the fleet roll call');

  return {
    id,
    name,
    beat,
    roster: async () => readFleetRoster(store),
    leave: async () => {
      left = true;
      clearInterval(timer);
      await records.delete(id);
      await ids.remove(ALL, id);
    },
  };
}

/**
 * Every live process's record, oldest first. Ids whose record expired are dropped from the index as they are met; a
 * process whose id is dropped just as it renews is listed again at its next beat, which adds its id back.
 */
export async function readFleetRoster(store: Store): Promise<ProcessRecord[]> {
  const records = store.collection(ROLL_CALL, processRecordSchema, { version: 1 });
  const ids = store.index(ROLL_CALL, { cap: MOST_PROCESSES });
  const roster: ProcessRecord[] = [];
  for (const id of await ids.list(ALL)) {
    const record = await records.get(id);
    if (record) roster.push(record);
    else await ids.remove(ALL, id);
  }
  return roster.sort((a, b) => a.startedAt - b.startedAt || a.name.localeCompare(b.name));
}
