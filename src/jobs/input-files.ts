/**
 * Members' images under `data/inputs` (stored by content hash when they attach one) are deleted once no job needs
 * them: an image stays while a job that uses it is open, and for a retention period after (a Reroll or Vary of the
 * result uploads it again); beyond a size cap the oldest images no open job uses go first.
 */
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';

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

  async #sweep(now: number): Promise<InputSweep> {
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
      if (keptBytes <= maxBytes) break;
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
