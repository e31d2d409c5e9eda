/**
 * The one interface over keyv that every stateful part of the bot uses: sessions, members' settings, the generation
 * history and the persisted jobs. Records live in typed, versioned collections; ordered lists of ids live in indexes,
 * because keyv has no list or scan primitive that works the same on SQLite and on Redis.
 */
import type { z } from 'zod';
import type { BlobShelfOptions, SharedBlobs } from './blobs.js';
import type { Leases } from './lease.js';

/** Which database is underneath. Either serves one bot process at a time (see lease.ts). */
export type StoreKind = 'sqlite' | 'redis';

/** How a collection's records are written: the version is stored with each value and checked on every read. */
export interface CollectionOptions {
  /** Bump when the record's shape changes incompatibly; values of another version read as absent, with a warning. */
  readonly version: number;
}

/** Records of one kind, validated by zod on every read and write. */
export interface Collection<Value> {
  /** The record, or `undefined` when it is missing, expired, of another version or fails validation (logged). */
  get(key: string): Promise<Value | undefined>;
  /** Validates and writes the record (throws on an invalid value: that is a bug, not bad data); `ttlMs` expires it. */
  set(key: string, value: Value, ttlMs?: number): Promise<void>;
  /** Removes the record; true when there was one. */
  delete(key: string): Promise<boolean>;
  /**
   * Reads, changes and writes the record with no other `update` of the same key in this process in between.
   * `change` returns the new value, or `undefined` to delete it. Across processes (Redis) the last writer wins.
   */
  update(
    key: string,
    change: (current: Value | undefined) => Value | undefined,
    ttlMs?: number,
  ): Promise<Value | undefined>;
}

/** Limits of an index; without `cap` it grows until ids are removed (fit for "unfinished jobs", not for history). */
export interface IndexOptions {
  /** The most ids kept per key; adding beyond it drops the oldest. */
  readonly cap?: number;
  /** A key's list is dropped once nothing was added to it for this long (a member who left, a session long over). */
  readonly ttlMs?: number;
}

/** Where to start and how many to return when listing an index. */
export interface IndexRange {
  readonly offset?: number;
  readonly limit?: number;
}

/** Ordered lists of ids, one per key, newest first (a member's generations, a session's generations, open jobs). */
export interface Index {
  /** Puts `id` first in the key's list (moving it there if it was already listed) and trims to the cap. */
  add(key: string, id: string): Promise<void>;
  /** Takes `id` out of the key's list; no-op when it is not there. */
  remove(key: string, id: string): Promise<void>;
  /** The ids, newest first; the whole list when no limit is given. */
  list(key: string, range?: IndexRange): Promise<string[]>;
  /** How many ids the key's list holds. */
  count(key: string): Promise<number>;
}

/** An open store: collections and indexes share its one connection. */
export interface Store {
  readonly kind: StoreKind;
  /** A typed collection named `name` (lowercase letters, digits and dashes). */
  collection<Schema extends z.ZodType>(
    name: string,
    schema: Schema,
    options: CollectionOptions,
  ): Collection<z.output<Schema>>;
  /** An index named `name` (lowercase letters, digits and dashes). */
  index(name: string, options?: IndexOptions): Index;
  /**
   * Deletes records and index lists whose time to live has passed, now; returns how many rows went. The store also
   * sweeps by itself at open and periodically (SQLite; Redis expires keys on its own and reports 0).
   */
  sweep(): Promise<number>;
  /**
   * The shelf `shelf` (lowercase letters, digits and dashes) of files shared between the processes of one bot; undefined
   * on a SQLite store, whose one process keeps its files on its own disk (see blobs.ts).
   */
  blobs(shelf: string, options: BlobShelfOptions): SharedBlobs | undefined;
  /** Named claims with an expiry, atomic across processes (see lease.ts). */
  readonly leases: Leases;
  /** Waits for updates in flight, then closes the connection. Using the store afterwards throws. */
  close(): Promise<void>;
}

/** The prefix of every key comfycord writes, so a Redis database can be shared with other applications. */
export const KEY_PREFIX = 'comfycord';

const NAME = /^[a-z][a-z0-9-]*$/;

/** The full key of a record: `comfycord:record:<collection>:<key>`. */
export function recordKey(collection: string, key: string): string {
  return `${KEY_PREFIX}:record:${collection}:${key}`;
}

/** The full key of one index list: `comfycord:index:<index>:<key>`. */
export function indexKey(index: string, key: string): string {
  return `${KEY_PREFIX}:index:${index}:${key}`;
}

/** Throws when a collection or index name would make ambiguous keys. */
export function assertName(name: string): void {
  if (!NAME.test(name)) throw new Error(`Store names use lowercase letters, digits and dashes, not "${name}".`);
}

/** Throws when a key is empty: an empty key is always a bug upstream (an id that was never set). */
export function assertKey(key: string): void {
  if (key.length === 0) throw new Error('Store keys must not be empty.');
}
