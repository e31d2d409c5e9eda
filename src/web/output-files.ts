/**
 * The files web generations produced, kept under the data directory (`web-outputs/<id>/`) so they outlive the job
 * record and a restart, and served at capability URLs: the URL carries an HMAC of the file's place under a key the
 * store keeps, so an `<img>` tag, a download link or a webhook receiver can fetch it without the API key, and nobody can
 * guess another generation's files.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { JobFile } from '../jobs/events.js';
import type { Store } from '../store/store.js';
import type { WebOutput } from './web-records.js';

const stateSchema = z.object({ fileKey: z.string().min(32) });

/** Where web outputs live and how their URLs are signed. */
export class OutputFiles {
  readonly #dir: string;
  readonly #key: Buffer;

  private constructor(dir: string, key: Buffer) {
    this.#dir = dir;
    this.#key = key;
  }

  /** Opens the outputs directory; the signing key is made once and kept in the store, so URLs survive restarts. */
  static async open(store: Store, dataDir: string): Promise<OutputFiles> {
    const state = store.collection('web-state', stateSchema, { version: 1 });
    const saved = await state.update('files', (current) => current ?? { fileKey: randomBytes(32).toString('base64') });
    const dir = path.join(dataDir, 'web-outputs');
    await mkdir(dir, { recursive: true });
    return new OutputFiles(dir, Buffer.from(saved!.fileKey, 'base64'));
  }

  /** Writes a generation's files (again, after a restart, over the same names) and describes them. */
  async write(generationId: string, files: readonly JobFile[]): Promise<WebOutput[]> {
    const dir = path.join(this.#dir, generationId);
    await mkdir(dir, { recursive: true });
    const outputs: WebOutput[] = [];
    for (const [index, file] of files.entries()) {
      const name = `${index}-${safeName(file.filename)}`;
      const target = path.join(dir, name);
      // Written aside and renamed: a crash mid-write never leaves a half file under the final name.
      await writeFile(`${target}.partial`, file.bytes);
      await rename(`${target}.partial`, target);
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

  /** The file on disk, with its size, when it is there. */
  async locate(output: WebOutput): Promise<{ path: string; size: number } | undefined> {
    const file = path.join(this.#dir, ...output.file.split('/'));
    const info = await stat(file).catch(() => undefined);
    return info?.isFile() ? { path: file, size: info.size } : undefined;
  }

  #signature(generationId: string, index: number): string {
    return createHmac('sha256', this.#key).update(`${generationId}/${index}`).digest('base64url').slice(0, 32);
  }
}

/** The file name with anything that could leave the directory or confuse a shell replaced. */
function safeName(filename: string): string {
  return path.basename(filename).replace(/[^\w.-]/g, '_') || 'output';
}
