import { defineConfig } from 'vitest/config';

/**
 * The files that start processes (the bot, `npm run web`, the CLIs), a browser, or run the benchmarks. Each start
 * costs seconds of CPU on a loaded machine, and two such files side by side starved each other's starts past their
 * waits; they run one at a time.
 */
const PROCESS_FILES = [
  'test/bench/benchmarks.test.ts',
  'test/cli/entry-point.test.ts',
  'test/e2e/crash-delivery.test.ts',
  'test/e2e/deploy-commands.test.ts',
  'test/e2e/kill-before-job.test.ts',
  'test/e2e/kill-mid-render.test.ts',
  'test/e2e/shutdown.test.ts',
  'test/emulator/catalogue-full.test.ts',
  'test/fleet/*.test.ts',
  'test/jobs/fleet*.test.ts',
  'test/store/runner-lease.test.ts',
  'test/web/crash.test.ts',
  'test/web/page.test.ts',
];

const shared = {
  // End-to-end tests start real servers on 127.0.0.1; give them room on a 2-core machine.
  testTimeout: 30_000,
  hookTimeout: 30_000,
  // Unhandled rejections (e.g. discord.js choking on a malformed fake payload) fail the run.
  dangerouslyIgnoreUnhandledErrors: false,
};

export default defineConfig({
  test: {
    // The fault tests' ledger: one summary line at the end (faults tried, jobs lost, jobs delivered twice). Here at
    // the root only, so that both projects append to one ledger.
    globalSetup: ['test/faults/ledger-setup.ts'],
    // Two groups, one after the other: the process files one at a time, then the rest two at a time. Those run the
    // bot, the emulator and the fake Discord inside the test process and mostly wait on sockets and timers; vitest's
    // default of one worker less than the cores ran every file alone on CI's two. Every file is independent of the
    // others: ports 0, its own temporary directories, SQLite files and redis-servers.
    projects: [
      { test: { ...shared, name: 'processes', include: PROCESS_FILES, maxWorkers: 1, sequence: { groupOrder: 1 } } },
      {
        test: {
          ...shared,
          name: 'in-process',
          include: ['test/**/*.test.ts'],
          exclude: PROCESS_FILES,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
