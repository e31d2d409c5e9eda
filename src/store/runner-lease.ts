/**
 * A process's lease on the store, taken at start and renewed while the process runs. Embedded (SQLite): one bot
 * process per store, the `runner` lease; a second process on the same store refuses to start with a sentence naming
 * the first. A fleet (Redis): each process holds a lease of its own name (`process:<name>`), so any number may share
 * the store, and only a second process of the same name is refused. A process that was killed leaves a lease that
 * expires after its time to live, or, on the same machine, is taken over at once when its pid is gone.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { LeaseClaim, LeaseHolder } from './lease.js';
import type { Store } from './store.js';

/** The lease the one process of an embedded store takes. */
export const RUNNER_LEASE = 'runner';

/** The lease of the process named `name` in a fleet. */
export function processLease(name: string): string {
  return `process:${name}`;
}

/** Tuning of the runner lease; the defaults suit a bot, tests shorten them. */
export interface RunnerLeaseOptions {
  /** How long the lease outlives its last renewal. Default 30 s. */
  readonly ttlMs?: number;
  /** Called when a renewal finds the lease in another process's hands (this one was paused past the TTL). */
  readonly onLost?: (holder: LeaseHolder) => void;
  /** The lease's name: `RUNNER_LEASE` (one process per store) unless a fleet gives each process its own. */
  readonly name?: string;
}

/** A held runner lease. */
export interface RunnerLease {
  readonly holder: LeaseHolder;
  /** Stops renewing and gives the lease up. */
  release(): Promise<void>;
}

/** Thrown when another live process holds the store: its message is the one sentence the operator reads. */
export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError';

  constructor(
    readonly holder: LeaseHolder,
    remedy = 'stop it first or give this one its own STORE_URL',
  ) {
    super(
      `Another comfycord process is using this store (started ${new Date(holder.startedAt).toISOString()}, ` +
        `pid ${holder.pid}, host ${holder.host}); ${remedy}.`,
    );
  }
}

/** Takes the runner lease, waiting out one a killed process left behind; throws `StoreInUseError` if one lives. */
export async function holdRunnerLease(
  store: Store,
  logger: Logger,
  options: RunnerLeaseOptions = {},
): Promise<RunnerLease> {
  const ttlMs = options.ttlMs ?? 30_000;
  const name = options.name ?? RUNNER_LEASE;
  const holder = thisProcess();
  const first = await store.leases.claim(name, holder, ttlMs);
  if (!first.acquired) await waitForLease(store, logger, { name, holder, first, ttlMs });
  return keepRenewed(store, logger, { name, holder, ttlMs, onLost: options.onLost });
}

/** Thrown for a lease of the store: the sentence names the remedy that fits it. */
function inUse(name: string, holder: LeaseHolder): StoreInUseError {
  return name === RUNNER_LEASE
    ? new StoreInUseError(holder)
    : new StoreInUseError(holder, 'give this one another COMFYCORD_PROCESS_NAME, or stop the other first');
}

interface LeaseWait {
  readonly name: string;
  readonly holder: LeaseHolder;
  readonly first: Extract<LeaseClaim, { acquired: false }>;
  readonly ttlMs: number;
}

async function waitForLease(store: Store, logger: Logger, { name, holder, first, ttlMs }: LeaseWait): Promise<void> {
  const other = first.holder;
  if (sharesPidSpace(other, holder)) {
    if (isAlive(other.pid)) throw inUse(name, other);
    if (await store.leases.takeOver(name, other.id, holder, ttlMs)) {
      logger.warn({ previous: other }, 'took over the store from a comfycord process that is no longer running');
      return;
    }
  }
  logger.warn(
    { holder: other, waitMs: Math.max(0, first.expiresAt - Date.now()) },
    'the store is held by another comfycord process; waiting for its lease to expire (a killed process leaves one)',
  );
  let lastExpiry = first.expiresAt;
  for (;;) {
    await sleep(Math.min(1_000, Math.max(50, lastExpiry - Date.now())));
    const claim = await store.leases.claim(name, holder, ttlMs);
    if (claim.acquired) return;
    // Renewed, or taken by a third process: someone is alive on this store.
    if (claim.holder.id !== other.id || claim.expiresAt > lastExpiry) throw inUse(name, claim.holder);
    lastExpiry = claim.expiresAt;
  }
}

interface Renewal {
  readonly name: string;
  readonly holder: LeaseHolder;
  readonly ttlMs: number;
  readonly onLost: ((holder: LeaseHolder) => void) | undefined;
}

function keepRenewed(store: Store, logger: Logger, { name, holder, ttlMs, onLost }: Renewal): RunnerLease {
  let released = false;
  const renew = async () => {
    try {
      if (released || (await store.leases.renew(name, holder.id, ttlMs))) return;
      const claim = await store.leases.claim(name, holder, ttlMs);
      if (claim.acquired) return;
      logger.fatal({ holder: claim.holder }, 'another comfycord process took over this store');
      onLost?.(claim.holder);
    } catch (error) {
      // The store is away: the lease may lapse; the next renewal (or claim) tells.
      if (!released) logger.warn({ err: error }, 'could not renew the store lease');
    }
  };
  // Three renewals per time to live: one missed renewal never lets the lease lapse.
  const timer = setInterval(() => void renew(), Math.max(10, Math.floor(ttlMs / 3))).unref();
  return {
    holder,
    release: async () => {
      released = true;
      clearInterval(timer);
      await store.leases.release(name, holder.id);
    },
  };
}

/** This process as a lease holder. */
export function thisProcess(): LeaseHolder {
  return { id: randomUUID(), pid: process.pid, host: hostname(), startedAt: Date.now(), machine: pidSpace() };
}

/** The kernel boot and pid namespace (Linux), so a pid is only compared with pids of the same space. */
function pidSpace(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return undefined;
  }
}

/**
 * True when `other` ran on this machine (the same host, kernel boot and pid namespace) and its pid is gone: it died,
 * whatever its lease still says. False when that cannot be told from here (another machine), or its pid lives.
 */
export function diedOnThisMachine(other: LeaseHolder): boolean {
  const here = { machine: (thisMachine ??= pidSpace()), host: hostname() };
  return sharesPidSpace(other, here) && !isAlive(other.pid);
}

let thisMachine: string | undefined;

function sharesPidSpace(other: LeaseHolder, self: Pick<LeaseHolder, 'machine' | 'host'>): boolean {
  return other.machine !== undefined && other.machine === self.machine && other.host === self.host;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
