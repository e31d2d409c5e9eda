/**
 * Leases: a named claim in the store, held by one process until it expires, renewed while the process lives. The bot
 * takes the `runner` lease at start, so a second process on the same store refuses to start (several processes cannot
 * share a store yet: each would resume every open job). The scale-out work replaces that one lease with a lease per
 * process and per job; the primitive stays the same.
 */

/** Who holds a lease: enough for an operator to find the process, and for a restart on the same machine to see it died. */
export interface LeaseHolder {
  /** Unique per process start. */
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** The kernel boot and pid namespace the pid belongs to (Linux); two holders with the same one share a pid space. */
  readonly machine?: string | undefined;
}

/** The outcome of a claim: held now, or held by someone else until `expiresAt`. */
export type LeaseClaim =
  | { readonly acquired: true; readonly expiresAt: number }
  | { readonly acquired: false; readonly holder: LeaseHolder; readonly expiresAt: number };

/** Leases kept in the store; every operation is atomic across processes. */
export interface Leases {
  /** Takes `name` for `holder` when it is free, expired or already theirs. */
  claim(name: string, holder: LeaseHolder, ttlMs: number): Promise<LeaseClaim>;
  /** Extends the lease while `holderId` holds it; false when it is no longer theirs. */
  renew(name: string, holderId: string, ttlMs: number): Promise<boolean>;
  /** Takes `name` from `staleHolderId` (a process known to be dead) before it expires; false if it changed hands. */
  takeOver(name: string, staleHolderId: string, holder: LeaseHolder, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holderId` holds it. */
  release(name: string, holderId: string): Promise<void>;
  /** Who holds `name` now; undefined when nobody does (never taken, released, or expired). */
  holder(name: string): Promise<LeaseHolder | undefined>;
}

/** The store key of a lease (Redis) or its row name (SQLite). */
export function leaseKey(name: string): string {
  return `comfycord:lease:${name}`;
}
