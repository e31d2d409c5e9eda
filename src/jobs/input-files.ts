/**
 * Members' images under `data/inputs` (stored by content hash when they attach one) are deleted once no job needs
 * them: an image stays while a job that uses it is open, and for a retention period after (a Reroll or Vary of the
 * result uploads it again); beyond a size cap the oldest images no open job uses go first. A new image that would take
 * the folder past its cap when nothing more can go (every image is still needed) is refused with a sentence.
 */
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { UserFacingError } from '../errors.js';
import type { Logger } from '../logger.js';

/** What a member reads when the folder is full of images that jobs still need. */
export const INPUTS_FULL_SENTENCE =
  'I am holding too many images for jobs still waiting; please try again once some of them have finished.';

/** Where the images are, how long they stay and how much may be kept; `inUse` lists the paths open jobs use. */
export interface InputFilesOptions {
  readonly dir: string;
  readonly retentionMs: number;
  readonly maxBytes: number;
  readonly inUse: () => Promise<ReadonlySet<string>>;
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

interface InputFile {
  readonly path: string;
  readonly size: number;
  readonly modifiedAt: number;
  readonly inUse: boolean;
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

  /** Deletes what is past its retention, then the oldest unused files while the folder is over its cap. */
  async sweep(now: number = Date.now()): Promise<InputSweep> {
    this.#sweeping ??= this.#sweep(now).finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  /** `room`: bytes about to be added, which the cap must leave room for. */
  async #sweep(now: number, room = 0): Promise<InputSweep> {
    const { retentionMs, maxBytes, logger } = this.#options;
    const files = await this.#list();
    // A file in use counts as used now: its retention runs from when its last job left the open list.
    await Promise.all(files.filter((file) => file.inUse).map(async (file) => touch(file.path, now)));
    const expired = files.filter((file) => !file.inUse && file.modifiedAt <= now - retentionMs);
    const kept = files.filter((file) => !expired.includes(file));
    let keptBytes = kept.reduce((sum, file) => sum + file.size, 0);
    const evictable = kept
      .filter((file) => !file.inUse && file.modifiedAt <= now - (this.#options.graceMs ?? 10 * 60 * 1000))
      .sort((a, b) => a.modifiedAt - b.modifiedAt);
    const evicted: InputFile[] = [];
    for (const file of evictable) {
      if (keptBytes + room <= maxBytes) break;
      evicted.push(file);
      keptBytes -= file.size;
    }
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
    const inUse = new Set([...(await this.#options.inUse())].map((file) => path.resolve(file)));
    const names = await readdir(dir).catch(() => [] as string[]);
    const files: InputFile[] = [];
    for (const name of names) {
      const file = path.resolve(dir, name);
      const stats = await stat(file).catch(() => undefined);
      if (!stats?.isFile()) continue;
      files.push({ path: file, size: stats.size, modifiedAt: stats.mtimeMs, inUse: inUse.has(file) });
    }
    return files;
  }
}

async function touch(file: string, now: number): Promise<void> {
  const time = new Date(now);
  await utimes(file, time, time).catch(() => undefined);
}
