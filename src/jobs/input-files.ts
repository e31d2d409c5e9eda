/**
 * Members' images under `data/inputs` (stored by content hash when they attach one) are deleted once no job needs
 * them: an image stays while a job that uses it is open, and for a retention period after (a Reroll or Vary of the
 * result uploads it again); beyond a size cap the oldest images no open job uses go first. A new image that would take
 * the folder past its cap when nothing more can go (every image is still needed) is refused with a sentence.
 *
 * In a fleet (a Redis store) the process that takes an image in is often not the one that uploads it to ComfyUI, and
 * processes on separate hosts share no folder: each image is then also shared through the store (`shared`, a shelf of
 * blobs named like the files), and the folder is only this process's cache of it. The same rules hold for the shelf,
 * fleet-wide: which images open jobs use is read from the store (every process's jobs), the retention counts from
 * their last use in any process, the cap counts every process's images, and a sweep deletes a blob only if nobody used
 * it since the sweep looked. A process that must upload an image it does not have fetches it from the shelf.
 */
import { mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurably } from '../durable-write.js';
import { UserFacingError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SharedBlobs } from '../store/blobs.js';
import type { InputImage } from './model.js';

/** What a member reads when the folder is full of images that jobs still need. */
export const INPUTS_FULL_SENTENCE =
  'I am holding too many images for jobs still waiting; please try again once some of them have finished.';

/** What a member reads when the image is larger than the processes of a fleet pass between them. */
export function tooLargeToShareSentence(maxBytes: number): string {
  const limit = sharedLimit(maxBytes);
  return `That image is larger than the ${limit} the bot can pass between its processes; please attach a smaller one.`;
}

function sharedLimit(maxBytes: number): string {
  return `${Math.floor(maxBytes / 1024 / 1024)} MiB`;
}

/** What a member reads when the image of a job is gone (past its retention, or deleted by hand). */
export const INPUT_MISSING_SENTENCE = 'The image you gave is no longer available; please attach it again.';

/**
 * Where the images are, how long they stay and how much may be kept; `inUse` lists the paths open jobs use (every
 * process's, in a fleet: an image is known by its file name, the same on every host).
 */
export interface InputFilesOptions {
  readonly dir: string;
  readonly retentionMs: number;
  readonly maxBytes: number;
  readonly inUse: () => Promise<ReadonlySet<string>>;
  /** The fleet's shelf of members' images (a Redis store); undefined for one process (SQLite), which keeps no copy. */
  readonly shared?: SharedBlobs | undefined;
  readonly logger: Logger;
  /** How long a new file is safe from the size cap: it may be stored but not yet part of a job. Default 10 min. */
  readonly graceMs?: number;
}

/** What one sweep did. */
export interface InputSweep {
  readonly removed: number;
  readonly removedBytes: number;
  readonly keptBytes: number;
}

/** Something a sweep may delete: its size, its last use, and whether an open job uses it. */
interface Sweepable {
  readonly size: number;
  readonly usedAt: number;
  readonly inUse: boolean;
}

/** An image in the folder; its last use is its modification time. */
interface InputFile extends Sweepable {
  readonly path: string;
}

/** Deletes members' images no job needs any more; run `sweep` at start and then periodically. */
export class InputFiles {
  readonly #options: InputFilesOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<InputSweep> | undefined;

  constructor(options: InputFilesOptions) {
    this.#options = options;
  }

  /** The folder the images are kept in. */
  get dir(): string {
    return this.#options.dir;
  }

  /**
   * Shares an image just taken in (named by its content hash) with the fleet's other processes; nothing to do for one
   * process. An image the shelf holds already is only marked used; a new one must fit the shelf's limit of one blob
   * (else a `UserFacingError`, and nothing is kept) and the fleet's cap (`MAX_INPUTS_MB`, making room first).
   */
  async share(name: string, bytes: Buffer): Promise<void> {
    const { shared, logger } = this.#options;
    if (shared === undefined) return;
    if (bytes.length > shared.maxBytes) {
      logger.warn(
        { name, bytes: bytes.length, maxBytes: shared.maxBytes },
        'refused an input image too large to share',
      );
      throw new UserFacingError('input-too-large-to-share', tooLargeToShareSentence(shared.maxBytes), {
        detail: `${bytes.length} bytes is over the ${shared.maxBytes} bytes one shared blob may hold`,
        params: { limit: sharedLimit(shared.maxBytes) },
      });
    }
    if (await shared.touch(name)) return;
    await this.#reserveShared(shared, bytes.length);
    await shared.put(name, bytes);
  }

  /**
   * The bytes of a job's image, to upload: from the folder, else (another process took it in) from the fleet's shelf,
   * kept in the folder for the next attempt; a `UserFacingError` when it is nowhere any more.
   */
  async read(image: InputImage): Promise<Buffer> {
    const name = path.basename(image.path);
    const local = path.join(this.#options.dir, name);
    for (const file of new Set([image.path, local])) {
      const bytes = await readFile(file).catch(() => undefined);
      if (bytes !== undefined) return bytes;
    }
    const shared = await this.#options.shared?.get(name);
    if (shared === undefined) {
      throw new UserFacingError('input-image-missing', INPUT_MISSING_SENTENCE, {
        detail: `input image ${name} is neither in ${this.#options.dir} nor shared in the store (recorded as ${image.path})`,
      });
    }
    // A cache: failing to write it costs only a fetch from the store next time.
    await mkdir(this.#options.dir, { recursive: true })
      .then(async () => writeFileDurably(local, shared))
      .catch((error: unknown) =>
        this.#options.logger.warn({ err: error, name }, 'could not cache a shared input image'),
      );
    return shared;
  }

  /** Whether the image is still kept: in the folder, or (renewing its last use) on the fleet's shelf. */
  async has(image: InputImage): Promise<boolean> {
    const { shared, dir } = this.#options;
    const name = path.basename(image.path);
    if (shared !== undefined) return shared.touch(name);
    const found = await stat(path.join(dir, name)).catch(async () => stat(image.path).catch(() => undefined));
    return found?.isFile() ?? false;
  }

  /**
   * Makes room for a new image of `bytes`: nothing to do while the folder stays under its cap; past it, what may go
   * goes (a sweep), and when the images still needed leave no room, throws a `UserFacingError`.
   */
  async reserve(bytes: number): Promise<void> {
    const { maxBytes, logger } = this.#options;
    const used = (await this.#sizes()).reduce((sum, size) => sum + size, 0);
    if (used + bytes <= maxBytes) return;
    await this.#sweeping?.catch(() => undefined);
    const { keptBytes } = await this.#sweep(Date.now(), bytes);
    if (keptBytes + bytes <= maxBytes) return;
    logger.warn(
      { keptBytes, bytes, maxBytes },
      'refused a new input image: the images open jobs need fill MAX_INPUTS_MB',
    );
    throw new UserFacingError('inputs-full', INPUTS_FULL_SENTENCE, {
      detail: `${keptBytes} bytes of input images are needed by open jobs or just stored; ${bytes} more would pass ${maxBytes}`,
    });
  }

  /** Sweeps now and every `intervalMs` until `stop`. */
  start(intervalMs: number): void {
    const run = () =>
      void this.sweep().catch((error: unknown) =>
        this.#options.logger.warn({ err: error }, 'sweeping input images failed'),
      );
    run();
    this.#timer = setInterval(run, intervalMs).unref();
  }

  /** Stops the periodic sweeps and waits for one in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping?.catch(() => undefined);
  }

  /**
   * Deletes what is past its retention, then the oldest unused files while the folder is over its cap; in a fleet the
   * shelf too, by the same rules (what this answers is the folder's sweep).
   */
  async sweep(now: number = Date.now()): Promise<InputSweep> {
    this.#sweeping ??= this.#sweepBoth(now).finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweepBoth(now: number): Promise<InputSweep> {
    const local = await this.#sweep(now);
    const { shared } = this.#options;
    if (shared !== undefined) await this.#sweepShared(shared, now);
    return local;
  }

  /** The fleet's cap: room for `bytes` more on the shelf, made by a sweep when needed, or a sentence. */
  async #reserveShared(shared: SharedBlobs, bytes: number): Promise<void> {
    const { maxBytes, logger } = this.#options;
    const used = (await shared.list()).reduce((sum, blob) => sum + blob.size, 0);
    if (used + bytes <= maxBytes) return;
    const keptBytes = await this.#sweepShared(shared, Date.now(), bytes);
    if (keptBytes + bytes <= maxBytes) return;
    logger.warn(
      { keptBytes, bytes, maxBytes },
      'refused a new input image: the images the fleet’s open jobs need fill MAX_INPUTS_MB',
    );
    throw new UserFacingError('inputs-full', INPUTS_FULL_SENTENCE, {
      detail: `${keptBytes} bytes of shared input images are needed by open jobs or just stored; ${bytes} more would pass ${maxBytes}`,
    });
  }

  /** The folder's rules on the shelf; answers the bytes it keeps. */
  async #sweepShared(shared: SharedBlobs, now: number, room = 0): Promise<number> {
    const { logger } = this.#options;
    const inUse = new Set([...(await this.#options.inUse())].map((file) => path.basename(file)));
    const blobs = (await shared.list(now)).map((blob) => ({ ...blob, inUse: inUse.has(blob.name) }));
    // In use counts as used now, in the store: its retention (and its expiry there) run from its last job's end.
    await Promise.all(blobs.filter((blob) => blob.inUse).map(async (blob) => shared.touch(blob.name, now)));
    const chosen = this.#toDelete(blobs, now, room);
    let { keptBytes } = chosen;
    let removed = 0;
    for (const blob of [...chosen.expired, ...chosen.evicted]) {
      // Used again since the list was read (taken in again, by any process): it stays, and counts.
      if (await shared.deleteUnlessUsedSince(blob.name, blob.usedAt)) removed += 1;
      else keptBytes += blob.size;
    }
    if (removed > 0) logger.info({ removed, keptBytes }, 'deleted shared input images no job of the fleet needs');
    return keptBytes;
  }

  /**
   * The one rule of the folder and of the fleet's shelf: what no open job uses and was last used longer ago than the
   * retention goes; then, while what is kept (with `room` more, bytes about to be added) passes the cap, the oldest
   * unused one past the grace (a new file may be stored but not yet part of a job). Answers what goes and the bytes kept.
   */
  #toDelete<T extends Sweepable>(items: readonly T[], now: number, room: number) {
    const { retentionMs, maxBytes } = this.#options;
    const grace = this.#options.graceMs ?? 10 * 60 * 1000;
    const expired = items.filter((item) => !item.inUse && item.usedAt <= now - retentionMs);
    const kept = items.filter((item) => !expired.includes(item));
    let keptBytes = kept.reduce((sum, item) => sum + item.size, 0);
    const evictable = kept
      .filter((item) => !item.inUse && item.usedAt <= now - grace)
      .sort((a, b) => a.usedAt - b.usedAt);
    const evicted: T[] = [];
    for (const item of evictable) {
      if (keptBytes + room <= maxBytes) break;
      evicted.push(item);
      keptBytes -= item.size;
    }
    return { expired, evicted, keptBytes };
  }

  /** `room`: bytes about to be added, which the cap must leave room for. */
  async #sweep(now: number, room = 0): Promise<InputSweep> {
    const { maxBytes, logger } = this.#options;
    const files = await this.#list();
    // A file in use counts as used now: its retention runs from when its last job left the open list.
    await Promise.all(files.filter((file) => file.inUse).map(async (file) => touch(file.path, now)));
    const { expired, evicted, keptBytes } = this.#toDelete(files, now, room);
    const removed = [...expired, ...evicted];
    await Promise.all(removed.map(async (file) => rm(file.path, { force: true })));
    const removedBytes = removed.reduce((sum, file) => sum + file.size, 0);
    if (removed.length > 0)
      logger.info({ removed: removed.length, removedBytes, keptBytes }, 'deleted input images no job needs');
    if (keptBytes > maxBytes) logger.warn({ keptBytes, maxBytes }, 'input images in use exceed MAX_INPUTS_MB');
    return { removed: removed.length, removedBytes, keptBytes };
  }

  /** The size of every file in the folder (no store read: the cheap check before each new image). */
  async #sizes(): Promise<number[]> {
    const names = await readdir(this.#options.dir).catch(() => [] as string[]);
    const stats = await Promise.all(
      names.map(async (name) => stat(path.join(this.#options.dir, name)).catch(() => undefined)),
    );
    return stats.flatMap((entry) => (entry?.isFile() ? [entry.size] : []));
  }

  async #list(): Promise<InputFile[]> {
    const { dir } = this.#options;
    // By file name: another host records the same image under its own data directory.
    const inUse = new Set([...(await this.#options.inUse())].map((file) => path.basename(file)));
    const names = await readdir(dir).catch(() => [] as string[]);
    const files: InputFile[] = [];
    for (const name of names) {
      const file = path.resolve(dir, name);
      const stats = await stat(file).catch(() => undefined);
      if (!stats?.isFile()) continue;
      files.push({ path: file, size: stats.size, usedAt: stats.mtimeMs, inUse: inUse.has(name) });
    }
    return files;
  }
}

async function touch(file: string, now: number): Promise<void> {
  const time = new Date(now);
  await utimes(file, time, time).catch(() => undefined);
}
