import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/jobs/events.js';
import { JobListeners } from '../../src/jobs/listeners.js';
import { newPromptId, type JobRecord } from '../../src/jobs/model.js';
import { silentLogger } from '../../src/logger.js';

const job: JobRecord = {
  id: 'job-1',
  memberId: 'member-1',
  channelId: 'channel-1',
  workflow: 'txt2img',
  settings: { prompt: 'a fox' },
  graph: {},
  applied: {},
  state: 'succeeded',
  sequence: 0,
  promptId: newPromptId(),
  attempts: 1,
  moves: 0,
  createdAt: 1,
  updatedAt: 1,
  deliveryAttempts: 0,
  outputs: [],
};

describe('JobListeners', () => {
  it('confirms a terminal event only when every listener resolved', async () => {
    const listeners = new JobListeners(silentLogger());
    const seen: string[] = [];
    listeners.add(async (_job, event) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen.push(`slow ${event.type}`);
    });
    listeners.add((_job, event) => void seen.push(`quick ${event.type}`));
    expect(await listeners.deliver(job, { type: 'cancelled' })).toBe(true);
    expect(seen.sort()).toEqual(['quick cancelled', 'slow cancelled']);
  });

  it('reports a terminal event as unconfirmed when a listener rejects or throws', async () => {
    const rejecting = new JobListeners(silentLogger());
    rejecting.add(async () => Promise.reject(new Error('Discord answered 503')));
    expect(await rejecting.deliver(job, { type: 'cancelled' })).toBe(false);
    const throwing = new JobListeners(silentLogger());
    throwing.add(() => {
      throw new Error('bug');
    });
    expect(await throwing.deliver(job, { type: 'cancelled' })).toBe(false);
  });

  it('sends progress without waiting, and survives a listener that fails', async () => {
    const listeners = new JobListeners(silentLogger());
    const seen: JobEvent[] = [];
    listeners.add(() => {
      throw new Error('bug');
    });
    listeners.add((_job, event) => void seen.push(event));
    listeners.emit(job, { type: 'queued', position: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([{ type: 'queued', position: 3 }]);
  });

  it('stops calling a listener once it unsubscribed', async () => {
    const listeners = new JobListeners(silentLogger());
    let calls = 0;
    const unsubscribe = listeners.add(() => void calls++);
    unsubscribe();
    expect(await listeners.deliver(job, { type: 'cancelled' })).toBe(true);
    expect(calls).toBe(0);
  });
});
