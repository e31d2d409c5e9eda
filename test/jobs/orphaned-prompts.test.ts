import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import type { JobRecord, JobRunner } from '../../src/jobs/index.js';
import { recordFault } from '../faults/ledger.js';
import { Harness, quickRequest, tallyOf, type EventLog } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

interface HistoryEntry {
  status?: { messages?: [string, unknown][] };
}

/** The emulator's `/history` entry of a prompt (undefined when it has none), read over HTTP as a client would. */
async function historyOf(emulator: Emulator, promptId: string): Promise<HistoryEntry | undefined> {
  const response = await fetch(`${emulator.url}/history/${promptId}`);
  return ((await response.json()) as Record<string, HistoryEntry>)[promptId];
}

const eventsOf = (entry: HistoryEntry | undefined) => (entry?.status?.messages ?? []).map(([name]) => name);

/** True once the server's history shows the prompt interrupted (false while it cannot be asked). */
async function interruptedOn(emulator: Emulator, promptId: string): Promise<boolean> {
  const entry = await historyOf(emulator, promptId).catch(() => undefined);
  return eventsOf(entry).includes('execution_interrupted');
}

/** Starts a slow job, then cuts off the server it went to; resolves once the job has moved to the other one. */
async function flapUnderJob(runner: JobRunner, log: EventLog, emulators: readonly Emulator[]) {
  const job = await runner.enqueue(quickRequest('member-1', { steps: 60 }));
  await log.until(() => log.of(job.id).some((event) => event.type === 'progress'), 'progress');
  const first = log.of(job.id).find((event) => event.type === 'submitted');
  const from = first?.type === 'submitted' ? first.server : '';
  const flapping = emulators[from === 'gpu1' ? 0 : 1]!;
  const other = emulators[from === 'gpu1' ? 1 : 0]!;
  const orphan = job.promptId;
  flapping.faults.refuseConnections(true);
  await log.until(() => log.of(job.id).some((event) => event.type === 'moved'), 'the job to move');
  return { job, orphan, flapping, other };
}

describe('prompts left on a server the bot gave up on', () => {
  it('are cancelled there once the flapping server is back, while the job runs once elsewhere', async () => {
    const emulators = [await harness.startEmulator({ stepMs: 60 }), await harness.startEmulator({ stepMs: 60 })];
    const { runner, log } = await harness.started(emulators);
    const { job, orphan, flapping, other } = await flapUnderJob(runner, log, emulators);
    expect((await runner.findJob(job.id))?.orphanedPrompts).toEqual([{ server: expect.any(String), promptId: orphan }]);

    flapping.faults.refuseConnections(false);
    await log.until(
      async () => interruptedOn(flapping, orphan),
      'the orphaned prompt to be interrupted on the flapping server',
    );
    expect(eventsOf(await historyOf(flapping, orphan))).not.toContain('execution_success');

    expect((await log.terminalOf(job.id)).type).toBe('succeeded');
    expect(log.terminals(job.id)).toHaveLength(1);
    const moved = (await runner.findJob(job.id)) as JobRecord;
    expect(other.received.map((prompt) => prompt.promptId)).toContain(moved.promptId);
    await log.until(
      async () => (await runner.findJob(job.id))?.orphanedPrompts?.length === 0,
      'the orphan to leave the job',
    );
    recordFault('a ComfyUI server flaps', [tallyOf(log, job.id)]);
  });

  it('are cancelled at once when the server marked down still answers HTTP', async () => {
    const emulators = [await harness.startEmulator({ stepMs: 60 }), await harness.startEmulator({ stepMs: 60 })];
    const { runner, log } = await harness.started(emulators);
    const job = await runner.enqueue(quickRequest('member-1', { steps: 60 }));
    await log.until(() => log.of(job.id).some((event) => event.type === 'progress'), 'progress');
    const first = log.of(job.id).find((event) => event.type === 'submitted');
    const from = first?.type === 'submitted' ? first.server : '';
    const failing = emulators[from === 'gpu1' ? 0 : 1]!;
    const orphan = job.promptId;
    // Its health checks fail (the GPU query raises), while its queue and interrupt routes still answer.
    failing.faults.failSystemStats(true);
    await log.until(() => log.of(job.id).some((event) => event.type === 'moved'), 'the job to move');
    await log.until(async () => interruptedOn(failing, orphan), 'the orphaned prompt to be interrupted at once');
    // Cancelled while the server was still marked down, not when it came back.
    expect(runner.snapshot().servers.find((server) => server.name === from)?.health).toBe('down');

    expect((await log.terminalOf(job.id)).type).toBe('succeeded');
    expect(log.terminals(job.id)).toHaveLength(1);
    expect(eventsOf(await historyOf(failing, orphan))).not.toContain('execution_success');
    await log.until(
      async () => (await runner.findJob(job.id))?.orphanedPrompts?.length === 0,
      'the orphan to leave the job',
    );
    failing.faults.failSystemStats(false);
    recordFault('a ComfyUI server flaps', [tallyOf(log, job.id)]);
  });

  it('are still cancelled after a restart when the server came back only then', async () => {
    const emulators = [await harness.startEmulator({ stepMs: 60 }), await harness.startEmulator({ stepMs: 2 })];
    const storeUrl = await harness.storeUrl();
    const first = await harness.started(emulators, {}, storeUrl);
    const { job, orphan, flapping } = await flapUnderJob(first.runner, first.log, emulators);
    // Delivered elsewhere while the flapping server is still unreachable: the job leaves the open list.
    expect((await first.log.terminalOf(job.id)).type).toBe('succeeded');
    await first.runner.stop();
    expect(eventsOf(await historyOf(flapping, orphan).catch(() => undefined))).toEqual([]);

    flapping.faults.refuseConnections(false);
    const second = await harness.started(emulators, {}, storeUrl);
    await second.log.until(
      async () => interruptedOn(flapping, orphan),
      'the orphaned prompt to be interrupted after the restart',
    );
    await second.log.until(
      async () => (await second.runner.findJob(job.id))?.orphanedPrompts?.length === 0,
      'the orphan to leave the delivered job',
    );
    // Nothing was delivered again by the second runner.
    expect(second.log.allTerminals()).toEqual([]);
    recordFault('a ComfyUI server flaps', [tallyOf(first.log, job.id)]);
  });
});
