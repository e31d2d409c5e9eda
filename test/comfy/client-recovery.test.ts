import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComfyLostError } from '../../src/comfy/errors.js';
import { textToImage } from './fixtures/graphs.js';
import { Harness, next, record, startTestEmulator, VERSIONS, terminalCount } from './fixtures/harness.js';
import { recordFault } from '../faults/ledger.js';

describe.each(VERSIONS)('ComfyClient recovery (ComfyUI %s)', (version) => {
  let harness: Harness;

  beforeEach(async () => {
    harness = new Harness(await startTestEmulator(version));
  });

  afterEach(async () => {
    await harness.close();
  });

  it('completes a job exactly once when the WebSocket drops mid-job', async () => {
    harness.emu.faults.stepMs = 20;
    const client = harness.client();
    const job = await client.submit(textToImage({ steps: 20 }));
    const events = record(job);
    await next(job, 'progress');
    harness.emu.faults.dropWebSockets();
    const outcome = await job.done;
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: [{ node: '9' }] });
    expect(terminalCount(events)).toBe(1);
    expect(events.filter((event) => event.type === 'output')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'started')).toHaveLength(1);
    recordFault('WebSocket dropped mid-job', [
      { deliveries: events.filter((event) => event.type === 'succeeded').length },
    ]);
  });

  it('completes a job whose end happened while the WebSocket was down', async () => {
    const client = harness.client({ reconnect: { minMs: 1_000, maxMs: 1_000 } });
    harness.emu.faults.stepMs = 10;
    const job = await client.submit(textToImage({ steps: 10 }));
    await next(job, 'started');
    harness.emu.faults.dropWebSockets();
    const outcome = await job.done;
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: [{ node: '9' }] });
  });

  it('fails with a clear "lost" error, not a hang, when the server restarts and forgets the prompt', async () => {
    harness.emu.faults.stepMs = 50;
    const client = harness.client();
    const job = await client.submit(textToImage({ steps: 100 }));
    const events = record(job);
    await next(job, 'progress');
    await harness.emu.restart();
    const outcome = await job.done;
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(ComfyLostError);
    expect(outcome.error.userMessage).toBe('The image server restarted and lost this job; please try again.');
    expect(terminalCount(events)).toBe(1);
  });

  it('fails a queued prompt the restarted server forgot as lost', async () => {
    harness.emu.faults.stepMs = 50;
    const client = harness.client();
    const running = await client.submit(textToImage({ steps: 100 }));
    await next(running, 'started');
    const queued = await client.submit(textToImage({ steps: 100, seed: 3 }));
    await next(queued, 'queued');
    await harness.emu.restart();
    expect(await queued.done).toMatchObject({ status: 'failed', error: { identifier: 'comfy-lost' } });
    expect(await running.done).toMatchObject({ status: 'failed', error: { identifier: 'comfy-lost' } });
  });

  it('fails a job with the unreachable error when the server goes away and stays away', async () => {
    harness.emu.faults.stepMs = 50;
    const client = harness.client({ stallTimeoutMs: 500 });
    const job = await client.submit(textToImage({ steps: 100 }));
    await next(job, 'progress');
    harness.emu.faults.refuseConnections(true);
    const outcome = await job.done;
    expect(outcome).toMatchObject({ status: 'failed', error: { identifier: 'comfy-unreachable' } });
    expect(client.connected).toBe(false);
    harness.emu.faults.refuseConnections(false);
  });

  it('follows a prompt submitted by an earlier client to its outputs', async () => {
    harness.emu.faults.stepMs = 20;
    const first = harness.client();
    const submitted = await first.submit(textToImage({ steps: 10 }));
    await next(submitted, 'started');
    await first.close();

    const second = harness.client();
    const job = second.follow(submitted.promptId);
    expect(second.follow(submitted.promptId)).toBe(job);
    const outcome = await job.done;
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: [{ node: '9', type: 'output' }] });
  });

  it('follows a prompt that already finished, straight from history', async () => {
    const client = harness.client();
    const done = await (await client.submit(textToImage())).done;
    const again = await harness.client().follow(done.promptId).done;
    expect(again).toMatchObject({ status: 'succeeded' });
    if (again.status === 'succeeded' && done.status === 'succeeded') expect(again.outputs).toEqual(done.outputs);
  });

  it('reports a followed prompt the server never knew as lost', async () => {
    const outcome = await harness.client().follow('00000000-0000-4000-8000-000000000000').done;
    expect(outcome).toMatchObject({ status: 'failed', error: { identifier: 'comfy-lost' } });
  });
});
