import { describe, expect, it } from 'vitest';
import { ComfyInterruptedError } from '../../src/comfy/errors.js';
import { ComfyJob, type JobHandleInit } from '../../src/comfy/job.js';

function open(overrides: Partial<JobHandleInit> = {}) {
  return ComfyJob.open({
    server: 'local',
    promptId: 'p1',
    warnings: () => ({}),
    cancel: () => Promise.resolve(),
    snapshot: () => ({ phase: 'running' }),
    onListenerError: () => undefined,
    ...overrides,
  });
}

describe('ComfyJob', () => {
  it('resolves done with the outcome of the terminal event', async () => {
    const { job, deliver } = open();
    deliver({ type: 'started' });
    deliver({ type: 'succeeded', outputs: [] });
    await expect(job.done).resolves.toEqual({
      status: 'succeeded',
      promptId: 'p1',
      server: 'local',
      outputs: [],
      warnings: {},
    });
  });

  it('resolves done, never rejects, when the job was interrupted', async () => {
    const { job, deliver } = open();
    const error = new ComfyInterruptedError('local', 'p1', true);
    deliver({ type: 'interrupted', error });
    await expect(job.done).resolves.toMatchObject({ status: 'interrupted', error });
  });

  it('keeps delivering when a listener throws, and reports the throw', async () => {
    const thrown: unknown[] = [];
    const { job, deliver } = open({ onListenerError: (error) => thrown.push(error) });
    const seen: number[] = [];
    job.on('progress', () => {
      throw new Error('bad listener');
    });
    job.on('progress', (event) => seen.push(event.value));
    deliver({ type: 'progress', value: 1, max: 2, node: '3' });
    deliver({ type: 'succeeded', outputs: [] });
    expect(seen).toEqual([1]);
    expect(thrown).toHaveLength(1);
    await expect(job.done).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('calls once-listeners once and removes listeners with off', () => {
    const { job, deliver } = open();
    const once: number[] = [];
    const removed: number[] = [];
    const listener = (event: { value: number }) => removed.push(event.value);
    job.once('progress', (event) => once.push(event.value));
    job.on('progress', listener);
    job.off('progress', listener);
    deliver({ type: 'progress', value: 1, max: 2, node: null });
    deliver({ type: 'progress', value: 2, max: 2, node: null });
    expect(once).toEqual([1]);
    expect(removed).toEqual([]);
  });

  it('exposes the snapshot, the warnings and cancel given by the client', async () => {
    let cancelled = false;
    const { job } = open({
      warnings: () => ({ '10': { errors: [], dependent_outputs: ['10'] } }),
      cancel: async () => {
        cancelled = true;
      },
      snapshot: () => ({ phase: 'queued', position: 3 }),
    });
    expect(job.snapshot).toEqual({ phase: 'queued', position: 3 });
    expect(Object.keys(job.warnings)).toEqual(['10']);
    await job.cancel();
    expect(cancelled).toBe(true);
  });
});
