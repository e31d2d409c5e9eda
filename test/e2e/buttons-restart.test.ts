import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage, InteractionHandle } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import {
  buttonId,
  descriptionOf,
  fieldsOf,
  imagine,
  nodeOfClass,
  promptText,
  waitForGraph,
  waitForRecorded,
  waitForResult,
  type ReceivedGraph,
} from './helpers.js';

let rig: Rig;
/** A result with two images, made by the first bot process; every test presses its buttons on the second one. */
let result: FakeMessage;

beforeAll(async () => {
  rig = await startRig();
  result = await waitForResult(await imagine(rig, { prompt: 'an old clock tower --ar 3:2 --steps 8', count: 2 }));
  await waitForRecorded(rig, result);
  const before = rig.bot;
  await rig.restartBot();
  expect(rig.bot).not.toBe(before);
  await rig.discord.waitForBotConnected();
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

function press(label: string): Promise<InteractionHandle> {
  return rig.discord.pressButton(result, buttonId(result, label), rig.discord.member);
}

function graphAt(index: number): ReceivedGraph {
  const entry = rig.emulator.received[index]!;
  return { promptId: entry.promptId, nodes: entry.prompt as ReceivedGraph['nodes'] };
}

/** The bytes of the input image the newest graph's LoadImage reads on the server. */
function newestInput(): Promise<Buffer> {
  const graph = graphAt(rig.emulator.received.length - 1);
  return readFile(path.join(rig.emulator.dataDir, 'input', String(nodeOfClass(graph, 'LoadImage').inputs['image'])));
}

describe('buttons on a result made before a restart', () => {
  it('Reroll runs the same settings with a new seed', async () => {
    const card = await waitForResult(await press('Reroll'));
    const [first, again] = [
      await waitForGraph(rig, 'an old clock tower'),
      await waitForGraph(rig, 'an old clock tower', 2),
    ];
    expect(nodeOfClass(again, 'EmptyLatentImage').inputs).toEqual(nodeOfClass(first, 'EmptyLatentImage').inputs);
    expect(nodeOfClass(again, 'KSampler').inputs['steps']).toBe(8);
    expect(nodeOfClass(again, 'KSampler').inputs['seed']).not.toBe(nodeOfClass(first, 'KSampler').inputs['seed']);
    expect(descriptionOf(card)).toBe('an old clock tower');
  });

  it('Vary 1 and Vary 2 start from their image', async () => {
    const first = await waitForResult(await press('Vary 1'));
    expect((await newestInput()).equals(result.attachments[0]!.data)).toBe(true);
    expect(fieldsOf(first)['Workflow']).toBe('img2img');
    await waitForResult(await press('Vary 2'));
    expect((await newestInput()).equals(result.attachments[1]!.data)).toBe(true);
  });

  it('Upscale 2 upscales the second image', async () => {
    const card = await waitForResult(await press('Upscale 2'));
    expect((await newestInput()).equals(result.attachments[1]!.data)).toBe(true);
    expect(rig.bot.services.workflows.get(fieldsOf(card)['Workflow']!)?.kind).toBe('upscale');
  });

  it('Edit shows the filled modal and runs what is submitted', async () => {
    const edit = await press('Edit');
    const modal = await edit.waitForModal();
    expect(JSON.stringify(modal)).toContain('"value":"an old clock tower"');
    const card = await waitForResult(
      await rig.discord.submitModal(edit, { prompt: 'a new clock tower', negative: '' }),
    );
    expect(promptText(await waitForGraph(rig, 'a new clock tower'), 'positive')).toBe('a new clock tower');
    expect(descriptionOf(card)).toBe('a new clock tower');
  });

  // Last: the result is gone afterwards.
  it('Delete removes the result', async () => {
    const handle = await press('Delete');
    expect((await handle.waitForFollowup()).content).toBe('Deleted.');
    expect(rig.discord.message(result.id).deleted).toBe(true);
    expect(await rig.bot.services.sessions.getGenerationByMessage(result.id)).toBeUndefined();
  });
});
