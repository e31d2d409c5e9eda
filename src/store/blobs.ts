/**
 * Files that several processes of one bot need, kept in the store: a member's image taken in by one process and
 * uploaded to ComfyUI by another, a web output written by the process that delivered it and fetched through any other.
 * Processes on separate hosts share nothing but the store, so the store is where such a file is shared; each process
 * keeps its own copy on disk as a cache.
 *
 * A shelf holds blobs by name (members' images are named by their content hash, so a name always means the same
 * bytes) with a catalogue of their sizes and when each was last used. A blob expires `ttlMs` after its last use, by
 * itself; a sweep may delete one earlier, but only if nobody used it since the sweep looked (`deleteUnlessUsedSince`).
 *
 * Only a Redis store shares blobs. A SQLite store belongs to one process, which keeps its files in its own data
 * directory beside it: a copy in the database would double every write and the disk it takes, for no reader.
 */

/** A blob as the shelf's catalogue knows it. */
export interface SharedBlob {
  readonly name: string;
  readonly size: number;
  /** When it was written or last used (milliseconds since the epoch). */
  readonly usedAt: number;
}

/** How long a shelf's blobs live after their last use, and the largest one it takes. */
export interface BlobShelfOptions {
  readonly ttlMs: number;
  readonly maxBytes: number;
}

/** Thrown by `put` for a blob larger than the shelf takes; nothing is written. */
export class BlobTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`a blob of ${size} bytes is larger than the ${maxBytes} bytes the store shares`);
    this.name = 'BlobTooLargeError';
  }
}

/** One shelf of shared blobs. */
export interface SharedBlobs {
  /** The largest blob the shelf takes. */
  readonly maxBytes: number;
  /** Writes the blob, used at `now`; throws `BlobTooLargeError` over `maxBytes`. */
  put(name: string, bytes: Buffer, now?: number): Promise<void>;
  /** Marks the blob used at `now` and renews its expiry; false when it is not there (never shared, or expired). */
  touch(name: string, now?: number): Promise<boolean>;
  /** The blob's bytes, or undefined when it is not there. */
  get(name: string): Promise<Buffer | undefined>;
  /** Every blob still there, with its size and last use. */
  list(now?: number): Promise<SharedBlob[]>;
  /** Deletes the blob unless it was used after `usedAt` (a sweep's view of it); true when it went. */
  deleteUnlessUsedSince(name: string, usedAt: number): Promise<boolean>;
}

const NAME = /^[\w.-]+(\/[\w.-]+)*$/;

/** Throws when a blob name could be read two ways (empty parts, `..`, characters outside a file name's). */
export function assertBlobName(name: string): void {
  if (name.length > 200 || !NAME.test(name) || name.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`A blob name is made of file-name parts joined by '/', not "${name.slice(0, 80)}".`);
  }
}
