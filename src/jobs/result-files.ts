/**
 * A finished job's files, kept on disk under the data directory from the moment they are downloaded until the job is
 * delivered. A bot that stops (or is killed) before its result reached the member delivers it after the restart from
 * these files, without needing the ComfyUI server that made them (which may be restarting too, or gone).
 *
 * Each job has its own folder `<dir>/<job id>/`; the record lists the files it holds (`keptFiles`), and so does the
 * folder's own `manifest.json`, so a job whose record was damaged can still be delivered from it (salvage.ts). Every
 * file is written durably (durable-write.ts: whole or absent, flushed to disk, the folder too) before `keep` returns,
 * so the record that then says "succeeded" never outlives its files, not even across a power cut. Folders of jobs no
 * longer open (delivered, or whose record is gone) are removed by `sweep` at start.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { syncDirectory, writeFileDurably } from '../durable-write.js';
import type { Logger } from '../logger.js';
import type { JobFile } from './events.js';
import { keptFileSchema, type KeptFile } from './model.js';

const MANIFEST = 'manifest.json';
const manifestSchema = z.object({ files: z.array(keptFileSchema) });

/** Where finished jobs' files wait for their delivery. */
export class ResultFiles {
  constructor(
    /** The folder (e.g. `data/results`); undefined keeps nothing (recovery then fetches from the server again). */
    private readonly dir: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** Writes a job's files; the list to record with the job, or undefined when nothing could be kept. */
  async keep(jobId: string, files: readonly JobFile[]): Promise<KeptFile[] | undefined> {
    if (this.dir === undefined) return undefined;
    const folder = path.join(this.dir, jobId);
    try {
      await mkdir(folder, { recursive: true });
      const kept: KeptFile[] = [];
      for (const [index, file] of files.entries()) {
        // The index keeps two outputs of the same name apart; the name itself never reaches the path.
        const name = `${index}.bin`;
        await writeFileDurably(path.join(folder, name), file.bytes);
        kept.push({ file: name, filename: file.filename, mimeType: file.mimeType, node: file.node });
      }
      await writeFileDurably(path.join(folder, MANIFEST), Buffer.from(JSON.stringify({ files: kept })));
      // The new names in the job's folder, and the folder's own name in the results folder.
      await syncDirectory(folder);
      await syncDirectory(this.dir);
      return kept;
    } catch (error) {
      // A full disk must not cost the member the result in hand: it is delivered from memory all the same.
      this.logger.warn({ err: error, jobId }, 'could not keep a result on disk; a restart would fetch it again');
      await rm(folder, { recursive: true, force: true }).catch(() => undefined);
      return undefined;
    }
  }

  /** Reads a job's kept files back; undefined when any of them is missing or unreadable. */
  async load(jobId: string, kept: readonly KeptFile[]): Promise<JobFile[] | undefined> {
    if (this.dir === undefined) return undefined;
    try {
      const files: JobFile[] = [];
      for (const entry of kept) {
        const bytes = await readFile(path.join(this.dir, jobId, path.basename(entry.file)));
        files.push({ bytes, filename: entry.filename, mimeType: entry.mimeType, node: entry.node });
      }
      return files;
    } catch (error) {
      this.logger.warn({ err: error, jobId }, 'a kept result is missing on disk; fetching it from its server');
      return undefined;
    }
  }

  /** What the job's folder says it holds (for a job whose record is unreadable); undefined when nothing usable. */
  async manifest(jobId: string): Promise<KeptFile[] | undefined> {
    if (this.dir === undefined) return undefined;
    const text = await readFile(path.join(this.dir, path.basename(jobId), MANIFEST), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const parsed = manifestSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data.files : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes a delivered job's files. */
  async discard(jobId: string): Promise<void> {
    if (this.dir === undefined) return;
    await rm(path.join(this.dir, jobId), { recursive: true, force: true }).catch((error: unknown) =>
      this.logger.warn({ err: error, jobId }, 'could not remove a delivered result'),
    );
  }

  /** Removes the folders of jobs that are not open any more (delivered before a crash removed them). */
  async sweep(openJobIds: ReadonlySet<string>): Promise<void> {
    if (this.dir === undefined) return;
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    for (const entry of entries) if (!openJobIds.has(entry)) await this.discard(entry);
  }
}
