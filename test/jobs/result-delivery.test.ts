import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/jobs/index.js';
import { EventLog, Harness, quickRequest } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

const isTerminal = (event: JobEvent) => ['succeeded', 'failed', 'cancelled'].includes(event.type);

describe('delivering a result the listeners could not confirm', () => {
  it('keeps trying past three refusals, with growing pauses, and records the delivery only once confirmed', async () => {
    const [emulator] = await harness.startEmulators(5);
    const store = await harness.openStore(await harness.storeUrl());
    const runner = await harness.runner(store, [emulator!], { delivery: { retryDelayMs: 20 } });
    const log = new EventLog();
    const triedAt: number[] = [];
    runner.onEvent(
      log.listener((_job, event) => {
        if (!isTerminal(event)) return;
        triedAt.push(Date.now());
        if (triedAt.length <= 5) throw new Error('Discord answered 503');
      }),
    );
    await runner.resume();
    const job = await runner.enqueue(quickRequest('member-1'));
    await log.until(() => triedAt.length >= 4, 'the fourth try');
    // Three refusals used to end in a job marked delivered that nobody ever saw.
    expect((await runner.findJob(job.id))?.deliveredAt).toBeUndefined();
    await log.until(async () => (await runner.findJob(job.id))?.deliveredAt !== undefined, 'the delivery', 20_000);
    expect(triedAt).toHaveLength(6);
    expect((await runner.findJob(job.id))?.deliveryAttempts).toBe(6);
    const pauses = triedAt.slice(1).map((at, index) => at - triedAt[index]!);
    expect(pauses[4]!).toBeGreaterThan(pauses[0]!);
    expect(pauses[4]!).toBeGreaterThanOrEqual(20 * 2 ** 4 - 5);
  });
});
