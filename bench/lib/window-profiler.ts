/**
 * A CPU profile of a window of time inside this process (the inspector's sampling profiler), for looking at what one
 * phase of a benchmark costs rather than the whole run that `node --cpu-prof` records.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Session } from 'node:inspector/promises';

/** Starts and stops the sampling profiler; one window at a time. */
export class WindowProfiler {
  #session: Session | undefined;

  /** Starts sampling every 100 µs. */
  async start(): Promise<void> {
    if (this.#session) return;
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    this.#session = session;
  }

  /** Stops sampling and writes the profile (a `.cpuprofile` Chrome DevTools opens) to `file`. */
  async stop(file: string): Promise<void> {
    const session = this.#session;
    if (!session) throw new Error('the profiler is not running');
    this.#session = undefined;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
  }
}
