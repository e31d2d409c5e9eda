import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { SlowFilesFirst } from './test/slow-files-first.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault tests' ledger: one summary line at the end (faults tried, jobs lost, jobs delivered twice).
    globalSetup: ['test/faults/ledger-setup.ts'],
    // End-to-end tests start real servers on 127.0.0.1; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Unhandled rejections (e.g. discord.js choking on a malformed fake payload) fail the run.
    dangerouslyIgnoreUnhandledErrors: false,
    // One test file per core. vitest's default leaves a core free, which on CI's two is a single worker; most files
    // spend their time waiting on servers, processes and timers, not computing. Every file is independent: its own
    // ports (0), temporary directories, SQLite files and redis-servers.
    maxWorkers: Math.max(2, availableParallelism()),
    // Without timings (a clean clone) the slowest files start first (see the file).
    sequence: { sequencer: SlowFilesFirst },
  },
});
