/**
 * A job handed to this process twice at once is carried once. Hand-offs can arrive twice: a fleet's BullMQ hands a
 * stalled job out again, and between 9c06ead and e61193c the dispatcher of one process re-sent a hand-off still under
 * way (the outage's failing of waiting jobs ran beside a dispatch pass). The second carry then replaced the first's
 * way of saying it was over, and `stop()`, which waits for every job carried, waited for ever (the end-to-end outage
 * test's cleanup timed out on a loaded machine).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../src/jobs/engine/embedded.js';
import type { HandOff } from '../../src/jobs/engine/queue-state.js';
import { Harness, quickRequest } from './harness.js';

/** One process's engine whose every hand-off reaches the carrier twice, both at once. */
class TwiceHandingEngine extends EmbeddedEngine {
  override async handOff(jobId: string, handOff: HandOff): Promise<void> {
    await Promise.all([super.handOff(jobId, handOff), super.handOff(jobId, handOff)]);
  }
}

const harness = new Harness();
afterEach(async () => harness.cleanUp());

describe('a job handed off twice at once', () => {
  it('is ended once, and the runner still stops', async () => {
    const [emulator] = await harness.startEmulators(2);
    const { runner, log } = await harness.startedWithServerDown(emulator!, {
      engine: new TwiceHandingEngine('twice'),
    });
    const job = await runner.enqueue(quickRequest('member-1'));
    // Cancelled while it waits: its hand-off (to be ended as cancelled) reaches the carrier twice.
    await runner.cancel(job.id, 'member-1');
    await log.terminalOf(job.id);

    await runner.stop();
    expect(log.terminals(job.id).map((event) => event.type)).toEqual(['cancelled']);
  });
});
