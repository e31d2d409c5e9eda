import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { ComfyHttp } from '../../src/comfy/http.js';
import { PromptRoutesDetector } from '../../src/comfy/prompt-routes.js';
import { silentLogger } from '../../src/logger.js';
import { textToImage } from './fixtures/graphs.js';
import { Harness, next, record, startTestEmulator, VERSIONS, type Emulator } from './fixtures/harness.js';

/** A stand-in for the HTTP layer that answers the probe with `answers`, one per call, and counts the calls. */
function probing(...answers: Array<boolean | undefined | Error>) {
  const calls = { count: 0 };
  const http = {
    probeJobsApi: async () => {
      const answer = answers[Math.min(calls.count, answers.length - 1)];
      calls.count += 1;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as ComfyHttp;
  return { detector: new PromptRoutesDetector(http, silentLogger()), calls };
}

describe('finding out whether a server has the jobs API', () => {
  it('probes once per connection and keeps the answer', async () => {
    const { detector, calls } = probing(true, false);
    expect((await detector.routes()).kind).toBe('jobs-api');
    expect((await Promise.all([detector.routes(), detector.routes()])).map((routes) => routes.kind)).toEqual([
      'jobs-api',
      'jobs-api',
    ]);
    expect(calls.count).toBe(1);
    detector.forget();
    expect((await detector.routes()).kind).toBe('classic');
    expect(calls.count).toBe(2);
  });

  it('uses the 0.3.x routes without remembering when the probe is inconclusive, and probes again after a failure', async () => {
    const { detector, calls } = probing(undefined, new Error('down'), true);
    expect((await detector.routes()).kind).toBe('classic');
    await expect(detector.routes()).rejects.toThrow('down');
    expect((await detector.routes()).kind).toBe('jobs-api');
    expect(calls.count).toBe(3);
  });
});

/** Waits until `condition` holds (10 s at most). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The routes a client used on the emulator since `from`. */
const usedSince = (emulator: Emulator, from: number) => emulator.requests.slice(from);

describe.each(VERSIONS)('following and cancelling prompts on ComfyUI %s', (version) => {
  const current = version === 'current';
  let harness: Harness;

  afterEach(async () => {
    await harness.close();
  });

  it(`detects ${current ? 'the jobs API' : 'no jobs API'} by probing, and follows prompts through it`, async () => {
    harness = new Harness(await startTestEmulator(version));
    const client = harness.client();
    expect(await client.hasJobsApi()).toBe(current);
    const from = harness.emu.requests.length;
    const outcome = await (await client.submit(textToImage())).done;
    expect(outcome.status).toBe('succeeded');
    const used = usedSince(harness.emu, from);
    const jobsApi = used.filter((line) => line.includes('/api/jobs'));
    const classic = used.filter((line) => /^GET \/(queue|history)/.test(line));
    if (current) {
      expect(jobsApi.length).toBeGreaterThan(0);
      expect(classic).toEqual([]);
    } else {
      expect(jobsApi).toEqual([]);
      expect(classic.length).toBeGreaterThan(0);
    }
  });

  it(`cancels a running and a pending prompt ${current ? 'through the jobs API' : 'with /interrupt and /queue delete'}`, async () => {
    harness = new Harness(await startTestEmulator(version));
    harness.emu.faults.stepMs = 50;
    const client = harness.client();
    const running = await client.submit(textToImage({ steps: 200 }));
    await next(running, 'progress');
    const pending = await client.submit(textToImage({ steps: 200, seed: 9 }));
    await next(pending, 'queued');
    const from = harness.emu.requests.length;
    await pending.cancel();
    await running.cancel();
    expect(await pending.done).toMatchObject({ status: 'interrupted', error: { whileQueued: true } });
    expect(await running.done).toMatchObject({ status: 'interrupted', error: { whileQueued: false } });
    const used = usedSince(harness.emu, from).filter((line) => line.startsWith('POST'));
    if (current) {
      expect(used).toEqual([`POST /api/jobs/${pending.promptId}/cancel`, `POST /api/jobs/${running.promptId}/cancel`]);
    } else {
      expect(used).toEqual(['POST /queue', 'POST /interrupt']);
    }
  });

  it('completes a re-run the server takes wholly from its cache, even with another prompt in between', async () => {
    harness = new Harness(await startTestEmulator(version));
    const client = harness.client();
    const first = await (await client.submit(textToImage({ seed: 11 }))).done;
    await (
      await client.submit(textToImage({ seed: 12 }))
    ).done;
    const job = await client.submit(textToImage({ seed: 11 }));
    const events = record(job);
    const again = await job.done;
    if (first.status !== 'succeeded' || again.status !== 'succeeded') throw new Error('expected successes');
    expect(again.outputs).toHaveLength(1);
    const progress = events.filter((event) => event.type === 'progress');
    if (current) {
      // RAM-pressure cache: nothing ran, the saved file is the first run's.
      expect(progress).toEqual([]);
      expect(again.outputs.map((file) => file.filename)).toEqual(first.outputs.map((file) => file.filename));
    } else {
      // Classic cache: the prompt in between evicted it, so it ran again into a new file.
      expect(progress.length).toBeGreaterThan(0);
      expect(again.outputs[0]!.filename).not.toBe(first.outputs[0]!.filename);
    }
    expect(events.filter((event) => event.type === 'output')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'succeeded')).toHaveLength(1);
  });
});

describe('a server restarted as another version', () => {
  let harness: Harness | undefined;
  let replacement: Emulator | undefined;

  afterEach(async () => {
    await harness?.close();
    await replacement?.close();
  });

  it('is probed again once the connection comes back, and its jobs API is then used', async () => {
    harness = new Harness(await startTestEmulator('0.3.64'));
    const client = harness.client();
    await client.connect();
    expect(await client.hasJobsApi()).toBe(false);
    const port = harness.emu.port;
    await harness.emu.close();
    replacement = await startEmulator({ port, stepMs: 5, version: 'current' });
    // The client sees its socket close, then reconnects to the new server.
    await until(() => !client.connected);
    await until(() => client.connected);
    expect(await client.hasJobsApi()).toBe(true);
    const outcome = await (await client.submit(textToImage())).done;
    expect(outcome.status).toBe('succeeded');
  });
});
