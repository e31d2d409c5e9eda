/**
 * The files web generations produced, kept under the data directory (`web-outputs/<id>/`) so they outlive the job
 * record and a restart, and served at capability URLs: the URL carries an HMAC of the file's place under a key the
 * store keeps, so an `<img>` tag, a download link or a webhook receiver can fetch it without the API key, and nobody can
 * guess another generation's files.
 *
 * In a fleet any process may get the request for a file another process wrote, on another host: each file is also
 * shared through the store (a shelf of blobs named by the file's place), and a process that does not have it fetches it
 * from there into its own folder, then serves it as its own. A shared copy lives `ttlMs` after it was written or last
 * fetched; one larger than the shelf takes stays on its writer's disk only (logged).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { JobFile } from '../jobs/events.js';
import type { Logger } from '../logger.js';
import type { SharedBlobs } from '../store/blobs.js';
import type { Store } from '../store/store.js';
import type { WebOutput } from './web-records.js';

/** How long the fleet keeps a shared copy of an output after its last use, and the largest it shares. */
export interface SharedOutputOptions {
  readonly ttlMs: number;
  readonly maxBytes: number;
  readonly logger: Logger;
}

const stateSchema = z.object({ fileKey: z.string().min(32) });

/** Where web outputs live and how their URLs are signed. */
export class OutputFiles {
  readonly #dir: string;
  readonly #key: Buffer;
  readonly #shared: SharedBlobs | undefined;
  readonly #logger: Logger | undefined;

  private constructor(dir: string, key: Buffer, shared: SharedBlobs | undefined, logger: Logger | undefined) {
    this.#dir = dir;
    this.#key = key;
    this.#shared = shared;
    this.#logger = logger;
  }

  /**
   * Opens the outputs directory; the signing key is made once and kept in the store, so URLs survive restarts. With
   * `sharing`, a fleet's store (Redis) also shares the files between processes; a SQLite store never does.
   */
  static async open(store: Store, dataDir: string, sharing?: SharedOutputOptions): Promise<OutputFiles> {
    const state = store.collection('web-state', stateSchema, { version: 1 });
    const saved = await state.update('files', (current) => current ?? { fileKey: randomBytes(32).toString('base64') });
    const dir = path.join(dataDir, 'web-outputs');
    await mkdir(dir, { recursive: true });
    const shared = sharing && store.blobs('web-outputs', { ttlMs: sharing.ttlMs, maxBytes: sharing.maxBytes });
    return new OutputFiles(dir, Buffer.from(saved!.fileKey, 'base64'), shared, sharing?.logger);
  }

  /** Writes a generation's files (again, after a restart, over the same names) and describes them. */
  async write(generationId: string, files: readonly JobFile[]): Promise<WebOutput[]> {
    const dir = path.join(this.#dir, generationId);
    await mkdir(dir, { recursive: true });
    const outputs: WebOutput[] = [];
    for (const [index, file] of files.entries()) {
      const name = `${index}-${safeName(file.filename)}`;
      const target = path.join(dir, name);
      await writeWhole(target, file.bytes);
      await this.#share(`${generationId}/${name}`, file.bytes);
      outputs.push({
        filename: path.basename(file.filename),
        contentType: file.mimeType,
        size: file.bytes.length,
        file: `${generationId}/${name}`,
      });
    }
    return outputs;
  }

  /** The URL path of one output. */
  urlOf(generationId: string, index: number, output: WebOutput): string {
    const name = encodeURIComponent(output.filename);
    return `/v1/files/${generationId}/${index}/${this.#signature(generationId, index)}/${name}`;
  }

  /** Whether a signature is the one `urlOf` gives. */
  verify(generationId: string, index: number, signature: string): boolean {
    const expected = Buffer.from(this.#signature(generationId, index));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * The file on disk, with its size, when it is there: in this process's folder, or fetched into it from the fleet's
   * shared copy (written by another process).
   */
  async locate(output: WebOutput): Promise<{ path: string; size: number } | undefined> {
    const file = path.join(this.#dir, ...output.file.split('/'));
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return { path: file, size: info.size };
    const bytes = await this.#shared?.get(output.file);
    if (bytes === undefined) return undefined;
    await mkdir(path.dirname(file), { recursive: true });
    await writeWhole(file, bytes);
    // Fetched: a file callers still ask for stays shared for another while.
    await this.#shared?.touch(output.file);
    return { path: file, size: bytes.length };
  }

  async #share(name: string, bytes: Buffer): Promise<void> {
    const shared = this.#shared;
    if (shared === undefined) return;
    if (bytes.length > shared.maxBytes) {
      // The generation keeps its file all the same; only the other processes cannot serve it.
      this.#logger?.warn(
        { file: name, bytes: bytes.length, maxBytes: shared.maxBytes },
        'a web output is larger than MAX_SHARED_FILE_MB: only this process serves it',
      );
      return;
    }
    await shared.put(name, bytes);
  }

  #signature(generationId: string, index: number): string {
    return createHmac('sha256', this.#key).update(`${generationId}/${index}`).digest('base64url').slice(0, 32);
  }
}

/** Written aside and renamed: a crash mid-write never leaves a half file under the final name. */
async function writeWhole(target: string, bytes: Buffer): Promise<void> {
  await writeFile(`${target}.partial`, bytes);
  await rename(`${target}.partial`, target);
}

/** The file name with anything that could leave the directory or confuse a shell replaced. */
function safeName(filename: string): string {
  return path.basename(filename).replace(/[^\w.-]/g, '_') || 'output';
}
