/**
 * The state store: `openStore(url, logger)` and the interfaces every stateful part of the bot programs against.
 */
export { openStore, type StoreOptions } from './open-store.js';
export type { Collection, CollectionOptions, Index, IndexOptions, IndexRange, Store, StoreKind } from './store.js';
export { BlobTooLargeError, type BlobShelfOptions, type SharedBlob, type SharedBlobs } from './blobs.js';
