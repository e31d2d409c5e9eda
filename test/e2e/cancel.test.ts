import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { startRig, type Rig } from './harness.js';
import {
  buttonId,
  emulatorHistory,
  fieldsOf,
  imagine,
  receivedGraphs,
  statusOf,
  waitForEnd,
  waitForGraph,
} from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  // One prompt on the server at a time, so a second job waits in the bot's queue; slow steps so the first one runs
  // long enough to be cancelled.
  rig = await startRig({
    emulator: { stepMs: 60 },
    env: { COMFY_PROMPTS_PER_SERVER: '1', MAX_JOBS_PER_MEMBER: '10' },
  });
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

describe('cancelling a job from its card', () => {
  it('cancels a queued job, then a running one: both cards say Cancelled and the server interrupted the runner', async () => {
    const running = await imagine(rig, { prompt: 'a long job that runs --steps 60' });
    await running.waitForOriginal((message) => statusOf(message).startsWith('Running:'), 10_000);
    const waiting = await imagine(rig, { prompt: 'a job that waits' });
    const queuedCard = await waiting.waitForOriginal((message) => statusOf(message) === 'Queued, position 1.');

    const pressQueued = await rig.discord.pressButton(queuedCard, buttonId(queuedCard, 'Cancel'), rig.discord.member);
    expect((await pressQueued.waitForCallback()).type).toBe(6);
    const cancelledQueued = await waitForEnd(waiting);
    expect(statusOf(cancelledQueued)).toBe('Cancelled.');
    expect(fieldsOf(cancelledQueued)['Workflow']).toBe('txt2img');

    const runningCard = running.original!;
    const pressRunning = await rig.discord.pressButton(
      runningCard,
      buttonId(runningCard, 'Cancel'),
      rig.discord.member,
    );
    expect((await pressRunning.waitForCallback()).type).toBe(6);
    const cancelledRunning = await waitForEnd(running);
    expect(statusOf(cancelledRunning)).toBe('Cancelled.');
    expect(cancelledRunning.attachments).toHaveLength(0);

    // The server was told: the running prompt ended interrupted, and the queued job never reached it.
    const graph = await waitForGraph(rig, 'a long job that runs');
    const history = (await emulatorHistory(rig, graph.promptId)) as { status: { messages: [string, unknown][] } };
    expect(history.status.messages.map(([event]) => event)).toContain('execution_interrupted');
    expect(receivedGraphs(rig, 'a job that waits')).toHaveLength(0);
    const queue = (await (await fetch(`${rig.emulator.url}/queue`)).json()) as Record<string, unknown[]>;
    expect(queue).toEqual({ queue_running: [], queue_pending: [] });
  });

  it('lets only the member who asked cancel a job', async () => {
    const job = await imagine(rig, { prompt: 'somebody else’s job --steps 20' });
    const card = await job.waitForOriginal((message) => statusOf(message).startsWith('Running:'), 10_000);
    const stranger = rig.discord.createUser({ username: 'mallory' }, rig.discord.guild);
    const press = await rig.discord.pressButton(card, buttonId(card, 'Cancel'), stranger);
    const refusal = await press.waitForFollowup();
    expect(refusal.content).toBe('Only the member who asked for this image can cancel it.');
    expect(refusal.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    // The owner's card is left alone: it goes on to show the result.
    const result = await job.waitForOriginal((message) => message.attachments.length > 0, 20_000);
    expect(result.deleted).toBe(false);
    expect(statusOf(result)).toMatch(/^Done in/);
    expect(press.calls.filter((call) => call.method !== 'POST')).toEqual([]);
  });
});
