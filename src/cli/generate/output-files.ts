/**
 * Writing a job's files into the output folder under the names the server gave them, never over an existing file:
 * the servers' counters restart, so `txt2img_00001_.png` from today must not replace yesterday's.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JobFile } from '../../jobs/index.js';

/** Writes every file into `dir` (created if needed); resolves with the paths written, in order. */
export async function writeOutputFiles(dir: string, files: readonly JobFile[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const file of files) written.push(await writeNew(dir, path.basename(file.filename), file.bytes));
  return written;
}

async function writeNew(dir: string, filename: string, bytes: Uint8Array): Promise<string> {
  const extension = path.extname(filename);
  const stem = filename.slice(0, filename.length - extension.length);
  for (let attempt = 0; ; attempt += 1) {
    const target = path.join(dir, attempt === 0 ? filename : `${stem}-${attempt}${extension}`);
    try {
      // `wx` fails when the file exists, so two runs writing at once cannot overwrite each other either.
      await writeFile(target, bytes, { flag: 'wx' });
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
