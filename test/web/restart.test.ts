import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebRig, waitFor, type WebRig } from './harness.js';

let rig: WebRig;

beforeAll(async () => {
  rig = await startWebRig({ emulator: { stepMs: 40 } });
});

afterAll(async () => {
  await rig?.close();
});

const ended = (generation: { status: string }) => ['succeeded', 'failed', 'cancelled'].includes(generation.status);

async function emulatorHasFinished(promptCount: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const history = (await (await fetch(`${rig.emulator.url}/history`)).json()) as Record<string, unknown>;
    if (Object.keys(history).length >= promptCount) return;
    if (Date.now() > deadline) throw new Error('the emulator never finished the prompt');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('restarting the web face', () => {
  it('follows a generation that was running when it stopped, to the end, with its files', async () => {
    const created = await rig.api('POST', '/v1/generations', { json: { prompt: 'a fox across a restart --steps 30' } });
    await waitFor(rig, created.body.id, (generation) => generation.status === 'running', 'it to run');
    await rig.restart();

    const done = await waitFor(rig, created.body.id, ended, 'it to end after the restart');
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toHaveLength(1);
    expect((await fetch(`${rig.url}${done.outputs[0].url}`)).status).toBe(200);
  });

  it('keeps a generation that finished while it was down, and its waiting ones run after the start', async () => {
    const finishedBefore = Object.keys(
      (await (await fetch(`${rig.emulator.url}/history`)).json()) as Record<string, unknown>,
    ).length;
    const running = await rig.api('POST', '/v1/generations', { json: { prompt: 'done while down --steps 10' } });
    const second = await rig.api('POST', '/v1/generations', { json: { prompt: 'second while down --steps 10' } });
    await waitFor(rig, running.body.id, (generation) => generation.status === 'running', 'it to run');
    await rig.stopApp();
    await emulatorHasFinished(finishedBefore + 1);
    await rig.startApp();

    const done = await waitFor(rig, running.body.id, ended, 'the recovered result');
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toHaveLength(1);
    const file = await fetch(`${rig.url}${done.outputs[0].url}`);
    expect(file.status).toBe(200);
    expect((await waitFor(rig, second.body.id, ended, 'the second')).status).toBe('succeeded');

    // Output files live under the data directory: they outlast another restart.
    await rig.restart();
    const again = await rig.api('GET', `/v1/generations/${running.body.id}`);
    expect(again.body.status).toBe('succeeded');
    expect((await fetch(`${rig.url}${again.body.outputs[0].url}`)).status).toBe(200);
  });
});
