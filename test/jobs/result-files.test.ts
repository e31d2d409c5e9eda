import { existsSync, readlinkSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recordKey } from '../../src/store/store.js';
import { Harness, quickRequest } from './harness.js';

const harness = new Harness();

afterEach(async () => {
  vi.restoreAllMocks();
  await harness.cleanUp();
});

/** One `fsync` the process made: the path it flushed, and the job's recorded state at that moment. */
interface Flush {
  readonly path: string;
  readonly stateThen: string | undefined;
}

/**
 * Spies on every `FileHandle.sync()` of the process (the real call still happens), noting the flushed path (from
 * /proc/self/fd) and the job's state in the SQLite file at that instant, read through a connection of its own.
 */
async function watchFlushes(databaseFile: string, jobIdOf: (path: string) => string | undefined): Promise<Flush[]> {
  const probe = await open(databaseFile, 'r');
  const prototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const original = prototype.sync;
  const reader = new Database(databaseFile, { readonly: true, fileMustExist: true });
  const stateOf = (jobId: string | undefined): string | undefined => {
    if (jobId === undefined) return undefined;
    const row = reader.prepare('SELECT value FROM records WHERE key = ?').get(recordKey('jobs', jobId)) as
      { value: string } | undefined;
    return row === undefined
      ? undefined
      : (JSON.parse(row.value) as { value: { data: { state: string } } }).value.data.state;
  };
  const flushes: Flush[] = [];
  vi.spyOn(prototype, 'sync').mockImplementation(function (this: { fd: number }) {
    const flushed = readlinkSync(`/proc/self/fd/${this.fd}`);
    flushes.push({ path: flushed, stateThen: stateOf(jobIdOf(flushed)) });
    return original.call(this);
  });
  return flushes;
}

describe('a finished job’s kept files', () => {
  it.skipIf(!existsSync('/proc/self/fd'))(
    'are flushed to disk, each file and then its folder, before the job is recorded as succeeded',
    async () => {
      const [emulator] = await harness.startEmulators(2);
      const dir = await harness.tempDir();
      const resultsDir = join(dir, 'results');
      const databaseFile = join(dir, 'jobs.sqlite');
      const { runner, log } = await harness.started([emulator!], { resultsDir }, `sqlite://${databaseFile}`);
      const jobIdOf = (path: string) =>
        path.startsWith(resultsDir) ? path.slice(resultsDir.length + 1).split('/')[0] : undefined;
      const flushes = await watchFlushes(databaseFile, jobIdOf);

      const job = await runner.enqueue(quickRequest('member-1', { count: 2 }));
      expect((await log.terminalOf(job.id)).type).toBe('succeeded');
      const record = await runner.findJob(job.id);
      expect(record?.state).toBe('succeeded');
      const folder = join(resultsDir, job.id);

      const flushed = flushes.filter((flush) => flush.path.startsWith(resultsDir));
      const paths = flushed.map((flush) => flush.path.replace(/\.[0-9a-f]{12}\.partial$/, '.partial'));
      expect(paths).toEqual([
        ...record!.keptFiles!.map((kept) => join(folder, `${kept.file}.partial`)),
        join(folder, 'manifest.json.partial'),
        folder,
        resultsDir,
      ]);
      expect(record!.keptFiles).toHaveLength(2);
      // Every flush came while the store did not yet say "succeeded".
      for (const flush of flushed) expect(flush.stateThen, flush.path).not.toBe('succeeded');
    },
  );

  it('are whole on disk, listed by the folder’s manifest, with no temporary file left', async () => {
    const [emulator] = await harness.startEmulators(2);
    const resultsDir = join(await harness.tempDir(), 'results');
    const { runner, log } = await harness.started([emulator!], {
      resultsDir,
      // Refused delivery: the files stay on disk for the test to read.
      delivery: { retryDelayMs: 60_000 },
    });
    runner.onEvent((_job, event) => {
      if (event.type === 'succeeded') throw new Error('Discord is unreachable');
    });
    const job = await runner.enqueue(quickRequest('member-1'));
    const terminal = await log.terminalOf(job.id);
    if (terminal.type !== 'succeeded') throw new Error(`expected success, got ${terminal.type}`);
    const folder = join(resultsDir, job.id);
    expect((await readdir(folder)).sort()).toEqual(['0.bin', 'manifest.json']);
    expect(await readFile(join(folder, '0.bin'))).toEqual(terminal.files[0]!.bytes);
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as { files: unknown };
    expect(manifest.files).toEqual((await runner.findJob(job.id))?.keptFiles);
  });
});
