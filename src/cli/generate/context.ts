/**
 * What a run of `npm run generate` is given: the configuration, a logger, where to print, and whether a person
 * watches. Everything is passed in, so tests run the command in-process against the emulator.
 */
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';

/** The services and streams of one run. */
export interface GenerateContext {
  readonly config: Config;
  /** Full detail (stacks, tracebacks, raw node errors); silent unless `--verbose` or LOG_LEVEL=debug. */
  readonly logger: Logger;
  /** Status, progress and the files written. */
  readonly stdout: NodeJS.WritableStream;
  /** The one sentence of a failure. */
  readonly stderr: NodeJS.WritableStream;
  /** True when stdout is a terminal: progress then updates one line in place. */
  readonly interactive?: boolean;
  /** Aborted on Ctrl+C: the job is cancelled on its server. */
  readonly signal?: AbortSignal;
}

/** Exit codes: 0 done, 1 failed, 2 the command line was wrong, 130 cancelled with Ctrl+C (as shells report SIGINT). */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;
