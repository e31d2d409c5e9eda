/**
 * What the store needs from a database: a keyv for records, a way to keep indexes, a sweep of expired data, and a
 * way to close. One implementation per kind of database; `openStore` picks one by the URL's scheme.
 */
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import type { CollectionContext } from './collection.js';
import { deserializeRow, serializeRow } from './codec.js';
import type { BlobShelfOptions, SharedBlobs } from './blobs.js';
import type { Leases } from './lease.js';
import type { Index, IndexOptions, StoreKind } from './store.js';

/** An open database connection behind a store. */
export interface Backend {
  readonly kind: StoreKind;
  readonly keyv: Keyv;
  createIndex(context: CollectionContext, name: string, options: IndexOptions): Index;
  /** Deletes what expired before `now`; returns how many rows went (Redis expires keys itself: always 0). */
  sweep(now: number): Promise<number>;
  readonly leases: Leases;
  /** A shelf of blobs shared between processes; absent where one process owns the store (SQLite, see blobs.ts). */
  createBlobs?(context: CollectionContext, shelf: string, options: BlobShelfOptions): SharedBlobs;
  close(): Promise<void>;
}

/** A keyv over `adapter` that prefixes nothing itself (the store writes full keys) and throws on I/O errors. */
export function createKeyv(adapter: KeyvStoreAdapter): Keyv {
  return new Keyv(adapter, {
    // keyv's default namespace would prefix keys a second time, and its adapters keep their own copy of it.
    namespace: undefined,
    useKeyPrefix: false,
    // By default keyv swallows a failed read and returns undefined: a lost connection would look like missing data.
    throwOnErrors: true,
    serialize: serializeRow,
    deserialize: deserializeRow,
  });
}
