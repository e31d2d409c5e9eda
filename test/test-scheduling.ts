/**
 * How vitest spreads the test files over its workers. Most files run the bot, the emulator and the fake Discord inside
 * the test process and spend their time waiting on sockets and timers: those run two at a time. The files that start
 * processes (the bot, `npm run web`, the CLIs, a browser) or run the benchmarks each cost seconds of CPU per start on
 * a loaded machine, and two of them side by side starve each other past their waits: those run one at a time, first,
 * longest first (a clean clone, as on CI, has no timings for vitest to order them by).
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The files that start processes or a browser, longest first as measured in CI runs. */
export const PROCESS_FILES = [
  'test/bench/benchmarks.test.ts',
  'test/e2e/crash-delivery.test.ts',
  'test/fleet/kill-one.test.ts',
  'test/fleet/rolling-restart.test.ts',
  'test/jobs/fleet.test.ts',
  'test/jobs/fleet-web.test.ts',
  'test/web/crash.test.ts',
  'test/store/runner-lease.test.ts',
  'test/e2e/kill-mid-render.test.ts',
  'test/fleet/one-process.test.ts',
  'test/web/page.test.ts',
  'test/e2e/shutdown.test.ts',
  'test/cli/entry-point.test.ts',
  'test/e2e/deploy-commands.test.ts',
  'test/emulator/catalogue-full.test.ts',
];

/** vitest's order (longest first when it has timings), with the process files in the order above before the rest. */
export class ProcessFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = PROCESS_FILES.findIndex((known) => file.moduleId.endsWith(`/${known}`));
      return index === -1 ? PROCESS_FILES.length : index;
    };
    // Array sort is stable: the other files keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
