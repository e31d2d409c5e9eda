import { defineConfig } from 'vitest/config';

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
  },
});
