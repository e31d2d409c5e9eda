/**
 * Jobs persisted with a prompt id of an older shape (not a canonical UUID): a job that never reached a server gets a
 * fresh UUID before it is posted (current ComfyUI refuses other shapes), and one already on a server is only looked
 * up under its old id, never posted again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { isPostablePromptId } from '../../src/comfy/index.js';
import type { JobRecord } from '../../src/jobs/index.js';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { EventLog, Harness, quickRequest } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

/** Enqueues one job while the server is down, stops, and rewrites its record as an older version would have left it. */
async function persistedJob(
  emulator: Emulator,
  url: string,
  change: (job: JobRecord) => JobRecord,
): Promise<JobRecord> {
  emulator.faults.refuseConnections(true);
  const store = await harness.openStore(url);
  const runner = await harness.runner(store, [emulator]);
  const log = new EventLog();
  runner.onEvent(log.listener());
  await runner.resume();
  await log.until(() => runner.snapshot().servers[0]?.health === 'down', 'the server to be down');
  const job = await runner.enqueue(quickRequest('member-1'));
  await runner.stop();
  const repository = new JobRepository(store);
  const changed = change((await repository.get(job.id))!);
  await repository.save(changed);
  await store.close();
  emulator.faults.refuseConnections(false);
  return changed;
}

describe('jobs persisted with an old-style prompt id', () => {
  it('post a never-submitted job to a current server under a fresh canonical UUID', async () => {
    const emulator = await harness.startEmulator({ stepMs: 1, version: 'current' });
    const url = await harness.storeUrl();
    const job = await persistedJob(emulator, url, (record) => ({ ...record, promptId: 'comfycord-job-0001' }));

    const { log } = await harness.started([emulator], {}, url);
    const terminal = await log.terminalOf(job.id);
    expect(terminal.type).toBe('succeeded');
    expect(emulator.received).toHaveLength(1);
    const posted = emulator.received[0]!.promptId;
    expect(isPostablePromptId(posted)).toBe(true);
    expect(posted).not.toBe(job.promptId);
  });

  it('follow a job already on a 0.3.64 server under its old id, without posting it again', async () => {
    const emulator = await harness.startEmulator({ stepMs: 1 });
    const url = await harness.storeUrl();
    const oldId = 'comfycord-job-0002';
    const job = await persistedJob(emulator, url, (record) => ({
      ...record,
      state: 'submitted',
      server: 'gpu1',
      promptId: oldId,
      attempts: 1,
      submittedAt: Date.now(),
    }));
    // What the older version had posted before it stopped (0.3.64 takes any prompt id verbatim).
    const posted = await fetch(`${emulator.url}/prompt`, {
      method: 'POST',
      body: JSON.stringify({ prompt: job.graph, prompt_id: oldId, client_id: 'an-older-comfycord' }),
    });
    expect(posted.status).toBe(200);

    const { log } = await harness.started([emulator], {}, url);
    const terminal = await log.terminalOf(job.id);
    expect(terminal.type).toBe('succeeded');
    expect(emulator.received.map((prompt) => prompt.promptId)).toEqual([oldId]);
  });
});
