import { MessageFlags } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rig } from './harness.js';
import { startRig } from './harness.js';
import { recordFault } from '../faults/ledger.js';
import {
  deliveriesOf,
  fieldsOf,
  imagine,
  receivedGraphs,
  statusOf,
  waitForEnd,
  waitForResult,
  waitForServerHealth,
} from './helpers.js';

describe('/imagine when the image server fails', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig();
  });

  afterAll(async () => {
    rig.discord.assertNoUnhandledCalls();
    await rig?.close();
  });

  it('shows which node failed and ComfyUI’s message on the card, with no buttons left', async () => {
    rig.emulator.faults.failNode({ classType: 'VAEDecode' }, 'CUDA out of memory. Tried to allocate 2.00 GiB');
    try {
      const handle = await imagine(rig, { prompt: 'a node that breaks --seed 5' });
      const card = await waitForEnd(handle);
      expect(statusOf(card)).toBe('❌ Node 8 (VAEDecode) failed: CUDA out of memory. Tried to allocate 2.00 GiB');
      expect(card.attachments).toHaveLength(0);
      expect(fieldsOf(card)).toMatchObject({ Seed: '5', Workflow: 'txt2img' });
      recordFault('a node raises an exception', [{ deliveries: deliveriesOf(rig, handle), sentences: 1 }]);
    } finally {
      rig.emulator.faults.clearFailures();
    }
  });

  it('holds a job in the queue while the only server is briefly down, and delivers it once the server is back', async () => {
    rig.emulator.faults.refuseConnections(true);
    await waitForServerHealth(rig, 'down');
    const handle = await imagine(rig, { prompt: 'waiting for the server' });
    expect((await handle.waitForCallback()).type).toBe(5);
    const queued = await handle.waitForOriginal((message) => statusOf(message) !== '');
    expect(statusOf(queued)).toBe('Queued, position 1.');
    expect(receivedGraphs(rig, 'waiting for the server')).toHaveLength(0);

    rig.emulator.faults.refuseConnections(false);
    const result = await waitForResult(handle, 30_000);
    expect(statusOf(result)).toMatch(/^Done in/);
    recordFault('ComfyUI down at submit', [{ deliveries: deliveriesOf(rig, handle) }]);
  });
});

describe('/imagine when every server stays down', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({
      emulator: { stepMs: 100 },
      env: { COMFY_PROMPTS_PER_SERVER: '1', MAX_JOBS_PER_MEMBER: '5', COMFY_OUTAGE_TIMEOUT_SECONDS: '1' },
    });
  });

  afterAll(async () => {
    rig.discord.assertNoUnhandledCalls();
    await rig?.close();
  });

  it('fails the jobs that were waiting once the outage outlasts the timeout, then refuses new ones until a server is back', async () => {
    await waitForServerHealth(rig, 'up');
    const running = await imagine(rig, { prompt: 'a long one --steps 60' });
    await running.waitForOriginal((message) => statusOf(message).startsWith('Running'), 15_000);
    const waiting = await imagine(rig, { prompt: 'the one behind it' });
    await waiting.waitForOriginal((message) => statusOf(message) === 'Queued, position 1.', 15_000);
    rig.emulator.faults.refuseConnections(true);
    const sentence = 'The image servers cannot be reached right now; please try again in a few minutes.';
    const ended = await waitForEnd(waiting, 20_000);
    expect(statusOf(ended)).toBe(`❌ ${sentence}`);
    expect(receivedGraphs(rig, 'the one behind it')).toHaveLength(0);

    const refused = await imagine(rig, { prompt: 'asked during the outage' });
    const followup = await refused.waitForFollowup();
    expect(followup.content).toBe(sentence);
    expect(followup.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);

    rig.emulator.faults.refuseConnections(false);
    await waitForServerHealth(rig, 'up');
    const back = await imagine(rig, { prompt: 'the server is back' });
    const result = await waitForResult(back, 30_000);
    expect(statusOf(result)).toMatch(/^Done in/);
    recordFault('ComfyUI down at submit', [
      { deliveries: deliveriesOf(rig, waiting), sentences: 1 },
      { deliveries: deliveriesOf(rig, refused), sentences: 1 },
      { deliveries: deliveriesOf(rig, back) },
    ]);
  });
});

describe('/imagine on a server that lacks the workflow’s model', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ emulator: { checkpoints: [] } });
  });

  afterAll(async () => {
    rig.discord.assertNoUnhandledCalls();
    await rig?.close();
  });

  it('tells the member privately that no server can run the workflow, and sends nothing to the server', async () => {
    await waitForServerHealth(rig, 'up');
    const handle = await imagine(rig, { prompt: 'a checkpoint nobody has' });
    expect((await handle.waitForCallback()).type).toBe(5);
    const followup = await handle.waitForFollowup();
    expect(followup.content).toBe(
      'No image server can run txt2img (it needs nodes or models they lack); try another workflow.',
    );
    expect(followup.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    await rig.discord.waitFor((call) => call.method === 'DELETE' && call.params.token === handle.token);
    expect(rig.emulator.received).toHaveLength(0);
  });
});
