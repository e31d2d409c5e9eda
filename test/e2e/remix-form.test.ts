import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage, InteractionHandle } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import {
  buttonId,
  descriptionOf,
  fieldsOf,
  imagine,
  nodeOfClass,
  pngImage,
  waitForGraph,
  waitForRecorded,
  waitForResult,
} from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

type Label = { type: number; label: string; description?: string; component: Record<string, unknown> };

/** A finished card, once its generation is recorded: by then its buttons find it. */
async function resultOf(prompt: string): Promise<FakeMessage> {
  const result = await waitForResult(await imagine(rig, { prompt }));
  await waitForRecorded(rig, result);
  return result;
}

async function openForm(card: FakeMessage): Promise<{ handle: InteractionHandle; labels: Label[] }> {
  const handle = await rig.discord.pressButton(card, buttonId(card, 'Edit'), rig.discord.member);
  const modal = await handle.waitForModal();
  return { handle, labels: modal['components'] as Label[] };
}

describe('the remix form behind Edit', () => {
  it('carries prompt, negative, aspect, seed and an image upload, each in a labelled 2025 modal component', async () => {
    const card = await resultOf('a lighthouse --ar 3:2 --no boats --seed 1234');
    const { labels } = await openForm(card);
    expect(labels.map((label) => [label.type, label.label, label.component['type']])).toEqual([
      [18, 'Prompt', 4],
      [18, 'Negative prompt', 4],
      [18, 'Aspect ratio', 3],
      [18, 'Seed', 4],
      [18, 'Start from an image', 19],
    ]);
    const [prompt, negative, aspect, seed] = labels.map((label) => label.component);
    expect(prompt).toMatchObject({ custom_id: 'prompt', value: 'a lighthouse', required: true });
    expect(negative).toMatchObject({ custom_id: 'negative', value: 'boats', required: false });
    const options = aspect!['options'] as { value: string; default?: boolean }[];
    expect(options.map((option) => option.value)).toEqual(['1:1', '3:2', '2:3', '4:3', '3:4', '16:9', '9:16']);
    expect(options.filter((option) => option.default).map((option) => option.value)).toEqual(['3:2']);
    expect(seed).toMatchObject({ custom_id: 'seed', value: '1234', required: false });
  });

  it('runs the new prompt with the aspect and seed chosen in the form', async () => {
    const card = await resultOf('a quiet harbour --seed 5');
    const { handle } = await openForm(card);
    const submitted = await rig.discord.submitModal(handle, {
      prompt: 'a stormy harbour',
      aspect: '16:9',
      seed: '777',
    });
    const result = await waitForResult(submitted);
    const graph = await waitForGraph(rig, 'a stormy harbour');
    expect(nodeOfClass(graph, 'KSampler').inputs['seed']).toBe(777);
    const latent = nodeOfClass(graph, 'EmptyLatentImage').inputs as { width: number; height: number };
    expect(latent.width / latent.height).toBeCloseTo(16 / 9, 1);
    expect(descriptionOf(result)).toBe('a stormy harbour');
    expect(fieldsOf(result)['Seed']).toBe('777');
  });

  it('draws a new seed when the seed is left empty, and refuses one that is not a number with one sentence', async () => {
    const card = await resultOf('a paper boat --seed 42');
    const first = await openForm(card);
    const fresh = await waitForResult(
      await rig.discord.submitModal(first.handle, { prompt: 'a paper crane', seed: '' }),
    );
    expect(fieldsOf(fresh)['Seed']).not.toBe('42');

    const second = await openForm(card);
    const before = rig.emulator.received.length;
    const refused = await rig.discord.submitModal(second.handle, { prompt: 'a paper plane', seed: 'lucky' });
    const callback = await refused.waitForCallback();
    expect(callback.type).toBe(4);
    expect(Number(callback.data?.['flags']) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(callback.data?.['content']).toMatch(/^The seed must be a whole number from 0 to \d+; leave it empty/);
    expect(rig.emulator.received.length).toBe(before);
  });

  it('starts image-to-image from an uploaded picture, sending the server its exact bytes', async () => {
    const card = await resultOf('a fox in the snow');
    const { handle } = await openForm(card);
    const upload = await pngImage(96, 64);
    const submitted = await rig.discord.submitModal(handle, {
      prompt: 'a fox in watercolour',
      image: [{ name: 'sketch.png', data: upload }],
    });
    expect((submitted.payload['data'] as { resolved?: unknown }).resolved).toBeDefined();
    const result = await waitForResult(submitted);
    const graph = await waitForGraph(rig, 'a fox in watercolour');
    const loaded = String(nodeOfClass(graph, 'LoadImage').inputs['image']);
    expect(await readFile(path.join(rig.emulator.dataDir, 'input', loaded))).toEqual(upload);
    expect(fieldsOf(result)['Workflow']).toBe('img2img');
  });

  it('refuses an uploaded file that is not an image, with one sentence and no job', async () => {
    const card = await resultOf('a mountain hut');
    const { handle } = await openForm(card);
    const before = rig.emulator.received.length;
    const refused = await rig.discord.submitModal(handle, {
      prompt: 'a mountain hut at night',
      image: [{ name: 'notes.txt', data: 'not a picture' }],
    });
    const callback = await refused.waitForCallback();
    expect(callback.type).toBe(4);
    expect(String(callback.data?.['content'])).toMatch(/not an image/i);
    expect(rig.emulator.received.length).toBe(before);
  });
});
