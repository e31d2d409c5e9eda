import { defineConfig } from 'vitest/config';
import { PROCESS_FILES, ProcessFilesFirst } from './test/test-scheduling.js';

const shared = {
  // End-to-end tests start real servers on 127.0.0.1; give them room on a 2-core machine.
  testTimeout: 30_000,
  hookTimeout: 30_000,
  // Unhandled rejections (e.g. discord.js choking on a malformed fake payload) fail the run.
  dangerouslyIgnoreUnhandledErrors: false,
  sequence: { sequencer: ProcessFilesFirst },
};

export default defineConfig({
  test: {
    // The fault tests' ledger: one summary line at the end (faults tried, jobs lost, jobs delivered twice). Here at
    // the root only, so that both projects append to one ledger.
    globalSetup: ['test/faults/ledger-setup.ts'],
    // Two groups, one after the other (see test/test-scheduling.ts). vitest's default of one worker less than the
    // cores ran every file alone on CI's two; every file is independent of the others (ports 0, its own temporary
    // directories, SQLite files and redis-servers), so the in-process files run two at a time.
    projects: [
      {
        test: {
          ...shared,
          name: 'processes',
          include: PROCESS_FILES,
          maxWorkers: 1,
          sequence: { ...shared.sequence, groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          name: 'in-process',
          include: ['test/**/*.test.ts'],
          exclude: PROCESS_FILES,
          maxWorkers: 2,
          sequence: { ...shared.sequence, groupOrder: 2 },
        },
      },
    ],
  },
});
