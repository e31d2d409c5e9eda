import { fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { UserFacingError } from '../../src/errors.js';
import type { JobEvent, JobRecord, JobRunner } from '../../src/jobs/index.js';
import { EventLog, Harness, quickRequest } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

const isTerminal = (event: JobEvent) => ['succeeded', 'failed', 'cancelled'].includes(event.type);

/** True when the emulator has nothing running or pending. */
async function idle(emulator: Emulator): Promise<boolean> {
  const queue = (await (await fetch(`${emulator.url}/queue`)).json()) as Record<string, unknown[]>;
  return queue['queue_running']!.length === 0 && queue['queue_pending']!.length === 0;
}

async function enqueueMany(runner: JobRunner, members: number, perMember: number): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  for (let round = 0; round < perMember; round++) {
    for (let member = 1; member <= members; member++) jobs.push(await runner.enqueue(quickRequest(`member-${member}`)));
  }
  return jobs;
}

describe('JobRunner across a restart', () => {
  it('delivers every job exactly once, including those that finished while it was down', async () => {
    const emulators = await harness.startEmulators(10, 10);
    const url = await harness.storeUrl();
    const options = { limits: { jobsPerMember: 4 } };
    const first = await harness.started(emulators, options, url);
    const jobs = await enqueueMany(first.runner, 5, 4);
    await first.log.until(() => first.log.allTerminals().length >= 4, 'a few jobs to end');
    await first.runner.stop();
    const stoppedAt = Date.now();
    const eventsAtStop = first.log.order.length;
    await first.store.close();
    // The prompts left on the servers finish while no bot is watching.
    const probe = new EventLog();
    await probe.until(async () => (await Promise.all(emulators.map(idle))).every(Boolean), 'the servers to be idle');

    const second = await harness.started(emulators, options, url);
    const delivered = () => first.log.allTerminals().length + second.log.allTerminals().length;
    await second.log.until(() => delivered() >= jobs.length, 'every job to be delivered', 60_000);

    expect(first.log.order).toHaveLength(eventsAtStop);
    for (const job of jobs) {
      const terminals = [...first.log.terminals(job.id), ...second.log.terminals(job.id)];
      expect(terminals, `terminal events of ${job.id}`).toHaveLength(1);
      expect(terminals[0]!.type).toBe('succeeded');
    }
    const finishedWhileDown = second.log
      .allTerminals()
      .filter(({ jobId }) => (second.log.jobs.get(jobId)?.submittedAt ?? Infinity) < stoppedAt);
    expect(finishedWhileDown.length).toBeGreaterThan(0);
    for (const { event } of finishedWhileDown) {
      if (event.type !== 'succeeded') throw new Error('expected success');
      expect(event.files[0]!.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    }
  }, 90_000);

  it('follows a job still running on its server after a restart, progress included', async () => {
    const [emulator] = await harness.startEmulators(40);
    const url = await harness.storeUrl();
    const first = await harness.started([emulator!], {}, url);
    const job = await first.runner.enqueue(quickRequest('member-1', { steps: 40 }));
    await first.log.until(() => first.log.of(job.id).some((event) => event.type === 'progress'), 'progress');
    await first.runner.stop();
    await first.store.close();

    const second = await harness.started([emulator!], {}, url);
    const terminal = await second.log.terminalOf(job.id);
    expect(terminal.type).toBe('succeeded');
    expect(second.log.of(job.id).some((event) => event.type === 'progress')).toBe(true);
    expect(first.log.terminals(job.id)).toHaveLength(0);
    // Followed, not submitted again.
    expect(emulator!.received.filter((prompt) => prompt.promptId === job.promptId)).toHaveLength(1);
    expect(emulator!.received).toHaveLength(1);
  });

  it('queues jobs that were waiting again, in their order', async () => {
    const [emulator] = await harness.startEmulators(5);
    emulator!.faults.refuseConnections(true);
    const url = await harness.storeUrl();
    const store = await harness.openStore(url);
    const first = await harness.runner(store, [emulator!]);
    await first.resume();
    const jobs: JobRecord[] = [];
    for (const member of ['ann', 'ben', 'cat', 'dan']) jobs.push(await first.enqueue(quickRequest(member)));
    expect(first.snapshot().waiting.map((job) => job.jobId)).toEqual(jobs.map((job) => job.id));
    await first.stop();
    await store.close();
    emulator!.faults.refuseConnections(false);

    const second = await harness.started([emulator!], { promptsPerServer: 1 }, url);
    await second.log.until(() => jobs.every((job) => second.log.terminals(job.id).length === 1), 'jobs to end');
    expect(second.log.submissionOrder()).toEqual(jobs.map((job) => job.id));
    expect(second.log.of(jobs[3]!.id)).toContainEqual({ type: 'queued', position: 3 });
  });

  it('delivers again after a restart a result whose delivery the listener refused', async () => {
    const [emulator] = await harness.startEmulators(5);
    const url = await harness.storeUrl();
    const store = await harness.openStore(url);
    const first = await harness.runner(store, [emulator!], { delivery: { retryDelayMs: 60_000 } });
    const refused = new EventLog();
    first.onEvent(
      refused.listener((_job, event) => {
        if (isTerminal(event)) throw new Error('Discord is unreachable');
      }),
    );
    await first.resume();
    const job = await first.enqueue(quickRequest('member-1'));
    await refused.terminalOf(job.id);
    await refused.until(async () => (await first.findJob(job.id))?.deliveryAttempts === 1, 'the refusal');
    expect((await first.findJob(job.id))?.deliveredAt).toBeUndefined();
    await first.stop();
    await store.close();

    const second = await harness.started([emulator!], {}, url);
    const terminal = await second.log.terminalOf(job.id);
    if (terminal.type !== 'succeeded') throw new Error(`expected success, got ${terminal.type}`);
    expect(terminal.files[0]!.mimeType).toBe('image/png');
    await second.log.until(async () => (await second.runner.findJob(job.id))?.deliveredAt !== undefined, 'delivery');
    expect(second.log.terminals(job.id)).toHaveLength(1);
  });

  it('retries a refused delivery in the same process, then records it', async () => {
    const [emulator] = await harness.startEmulators(5);
    const store = await harness.openStore(await harness.storeUrl());
    const runner = await harness.runner(store, [emulator!], { delivery: { retryDelayMs: 50 } });
    const log = new EventLog();
    let refusals = 0;
    runner.onEvent(
      log.listener((_job, event) => {
        if (isTerminal(event) && refusals++ === 0) throw new Error('Discord answered 503');
      }),
    );
    await runner.resume();
    const job = await runner.enqueue(quickRequest('member-1'));
    await log.until(() => log.terminals(job.id).length === 2, 'the second delivery');
    await log.until(async () => (await runner.findJob(job.id))?.deliveredAt !== undefined, 'delivery');
    expect((await runner.findJob(job.id))?.deliveryAttempts).toBe(2);
  });

  it('refuses new jobs from the moment it stops, alone on its store (nobody else would carry them)', async () => {
    const [emulator] = await harness.startEmulators(5);
    const store = await harness.openStore(await harness.storeUrl());
    const runner = await harness.runner(store, [emulator!]);
    const log = new EventLog();
    let deliver = () => undefined as void;
    const delivering = new Promise<void>((resolve) => (deliver = resolve));
    // Its delivery holds the stop (a stop waits for deliveries under way) until the test lets it go on.
    runner.onEvent(log.listener(async (_job, event) => (isTerminal(event) ? delivering : undefined)));
    await runner.resume();
    const job = await runner.enqueue(quickRequest('member-1'));
    await log.terminalOf(job.id);
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));

    const refusal = await runner.enqueue(quickRequest('member-2')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(stopped).toBe(false);
    expect(refusal).toBeInstanceOf(UserFacingError);
    expect((refusal as UserFacingError).identifier).toBe('runner-stopped');
    expect((refusal as UserFacingError).message).toBe('The bot is restarting; please try again in a minute.');
    deliver();
    await stopping;
    expect(log.terminals(job.id)).toHaveLength(1);
    expect(emulator!.received).toHaveLength(1);
  });
});
