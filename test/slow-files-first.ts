/**
 * vitest's order of test files, for a run without timings (a clean clone, as on CI, where vitest knows nothing of
 * earlier runs and keeps the files in the order it found them): the files known to take minutes go first, so that
 * the long ones start at once and the short ones fill the other worker around them, instead of one long file starting
 * last while the other worker idles. The rest keep vitest's own order (with timings from an earlier run, longest first).
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first, as measured in CI runs: each starts bot processes, Redis servers or a browser, or runs benchmarks. */
const SLOW_FILES = [
  'test/bench/benchmarks.test.ts',
  'test/e2e/crash-delivery.test.ts',
  'test/fleet/kill-one.test.ts',
  'test/fleet/rolling-restart.test.ts',
  'test/jobs/fleet.test.ts',
  'test/store/runner-lease.test.ts',
  'test/e2e/kill-mid-render.test.ts',
  'test/web/crash.test.ts',
  'test/web/page.test.ts',
  'test/e2e/shutdown.test.ts',
];

export class SlowFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = SLOW_FILES.findIndex((slow) => file.moduleId.endsWith(`/${slow}`));
      return index === -1 ? SLOW_FILES.length : index;
    };
    // Array sort is stable: files of one rank keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
