import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MessageFlags } from 'discord.js';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordKey } from '../../src/store/store.js';
import type { FakeMessage, FakeUser, InteractionHandle } from '../fakes/discord/index.js';
import { recordFault } from '../faults/ledger.js';
import { startRig, type Rig } from './harness.js';
import {
  buttonId,
  deliveriesOf,
  buttonLabels,
  descriptionOf,
  fieldsOf,
  imagine,
  nodeOfClass,
  promptText,
  waitForEnd,
  waitForGraph,
  waitForRecorded,
  waitForResult,
  type ReceivedGraph,
} from './helpers.js';
import { statusOf } from './card-reader.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterEach(() => {
  rig.emulator.faults.stepMs = 2;
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

/** A finished card, once its generation is recorded: by then its buttons find it. */
async function resultOf(prompt: string, options: { count?: number } = {}): Promise<FakeMessage> {
  const result = await waitForResult(await imagine(rig, { prompt, ...options }));
  await waitForRecorded(rig, result);
  return result;
}

const GONE_SENTENCE = 'That picture is no longer in my records, so I cannot do that; start again with /imagine.';

function press(message: FakeMessage, label: string, user: FakeUser = rig.discord.member): Promise<InteractionHandle> {
  return rig.discord.pressButton(message, buttonId(message, label), user);
}

/** The graph the emulator receives after `before` graphs (nothing else runs while a test waits for it). */
async function graphAfter(before: number): Promise<ReceivedGraph> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const entry = rig.emulator.received[before];
    if (entry) return { promptId: entry.promptId, nodes: entry.prompt as ReceivedGraph['nodes'] };
    if (Date.now() > deadline) throw new Error(`the emulator received no graph #${before + 1}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The bytes of the input image a graph's LoadImage reads on the server. */
function loadedImage(graph: ReceivedGraph): Promise<Buffer> {
  const name = String(nodeOfClass(graph, 'LoadImage').inputs['image']);
  return readFile(path.join(rig.emulator.dataDir, 'input', name));
}

/** The one private sentence an interaction was answered with (a reply, or a followup after a deferral). */
async function privateSentence(handle: InteractionHandle): Promise<string> {
  const callback = await handle.waitForCallback();
  if (callback.type === 4) {
    expect(Number(callback.data?.['flags']) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    return String(callback.data?.['content']);
  }
  const followup = await handle.waitForFollowup();
  expect(followup.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  return followup.content;
}

describe('the buttons on a result', () => {
  it('Reroll runs the same settings again with a new seed', async () => {
    const result = await resultOf('a kite over the dunes --ar 16:9 --seed 5 --steps 10');
    const reroll = await press(result, 'Reroll');
    expect((await reroll.waitForCallback()).type).toBe(5);
    const card = await waitForResult(reroll);
    const [before, after] = [
      await waitForGraph(rig, 'a kite over the dunes'),
      await waitForGraph(rig, 'a kite over the dunes', 2),
    ];
    expect(nodeOfClass(after, 'KSampler').inputs).toMatchObject({ steps: 10 });
    expect(nodeOfClass(after, 'EmptyLatentImage').inputs).toEqual(nodeOfClass(before, 'EmptyLatentImage').inputs);
    const seed = nodeOfClass(after, 'KSampler').inputs['seed'];
    expect(seed).not.toBe(5);
    expect(fieldsOf(card)).toMatchObject({ Seed: String(seed), Workflow: 'txt2img' });
    expect(descriptionOf(card)).toBe('a kite over the dunes');
  });

  it('Vary runs image-to-image from this output: the server gets the posted image’s exact bytes', async () => {
    const result = await resultOf('a glass of lemonade');
    const before = rig.emulator.received.length;
    const card = await waitForResult(await press(result, 'Vary'));
    const graph = await graphAfter(before);
    expect((await loadedImage(graph)).equals(result.attachments[0]!.data)).toBe(true);
    expect(promptText(graph, 'positive')).toBe('a glass of lemonade');
    expect(fieldsOf(card)['Workflow']).toBe('img2img');
  });

  it('Upscale runs an upscale workflow on this output; with two images the second button takes the second', async () => {
    const result = await resultOf('two teacups', { count: 2 });
    expect(buttonLabels(result)).toEqual([
      'Upscale 1',
      'Upscale 2',
      'Vary 1',
      'Vary 2',
      'Reroll',
      'Edit',
      'Refine in thread',
      'Delete',
    ]);
    const before = rig.emulator.received.length;
    const card = await waitForResult(await press(result, 'Upscale 2'));
    const graph = await graphAfter(before);
    const input = await loadedImage(graph);
    expect(input.equals(result.attachments[1]!.data)).toBe(true);
    expect(input.equals(result.attachments[0]!.data)).toBe(false);
    const workflow = fieldsOf(card)['Workflow']!;
    expect(rig.bot.services.workflows.get(workflow)?.kind).toBe('upscale');
    const [source, upscaled] = await Promise.all([
      sharp(input).metadata(),
      sharp(card.attachments[0]!.data).metadata(),
    ]);
    expect(upscaled.width).toBe(source.width * 2);
    expect(upscaled.height).toBe(source.height * 2);
  });

  it('Vary 2 varies the second of two images: the server gets that image’s exact bytes', async () => {
    const result = await resultOf('two saucers', { count: 2 });
    const before = rig.emulator.received.length;
    const card = await waitForResult(await press(result, 'Vary 2'));
    const graph = await graphAfter(before);
    const input = await loadedImage(graph);
    expect(input.equals(result.attachments[1]!.data)).toBe(true);
    expect(input.equals(result.attachments[0]!.data)).toBe(false);
    expect(promptText(graph, 'positive')).toBe('two saucers');
    expect(fieldsOf(card)['Workflow']).toBe('img2img');
  });

  it('Edit shows a modal filled with the prompt and negative, and submitting it runs the new prompt', async () => {
    const result = await resultOf('a red bicycle --no people');
    const edit = await press(result, 'Edit');
    const modal = await edit.waitForModal();
    expect(textInputs(modal)).toMatchObject({ prompt: 'a red bicycle', negative: 'people' });

    const submitted = await rig.discord.submitModal(edit, { prompt: 'a blue bicycle', negative: 'cars' });
    const card = await waitForResult(submitted);
    const graph = await waitForGraph(rig, 'a blue bicycle');
    expect(promptText(graph, 'negative')).toBe('cars');
    expect(descriptionOf(card)).toBe('a blue bicycle');
    expect(fieldsOf(card)['Negative']).toBe('cars');
  });

  it('Cancel stops a running job and the card says so', async () => {
    rig.emulator.faults.stepMs = 200;
    const handle = await imagine(rig, { prompt: 'a slow sunrise --steps 40' });
    const running = await handle.waitForOriginal((message) => statusOf(message).startsWith('Running'), 20_000);
    const cancel = await press(running, 'Cancel');
    expect((await cancel.waitForCallback()).type).toBe(6);
    const ended = await waitForEnd(handle);
    expect(statusOf(ended)).toBe('Cancelled.');
    expect(ended.attachments).toHaveLength(0);
  });
});

describe('the Delete button', () => {
  it('lets the owner delete the result, which leaves their /history', async () => {
    const result = await resultOf('an owl on a fence post');
    const handle = await press(result, 'Delete');
    expect((await handle.waitForFollowup()).content).toBe('Deleted.');
    expect(rig.discord.message(result.id).deleted).toBe(true);
    const history = await rig.discord.sendSlashCommand({
      user: rig.discord.member,
      channel: rig.discord.channel.id,
      name: 'history',
    });
    const page = await history.waitForOriginal((message) => message.embeds.length > 0);
    expect(JSON.stringify(page.embeds)).not.toContain('an owl on a fence post');
  });

  it('refuses a stranger with a sentence and deletes nothing', async () => {
    const result = await resultOf('a snowman at noon');
    const stranger = rig.discord.createUser({ username: 'mallory' }, rig.discord.guild);
    const sentence = await privateSentence(await press(result, 'Delete', stranger));
    expect(sentence).toBe('Only the member who made this picture, or a moderator, can delete it.');
    expect(rig.discord.message(result.id).deleted).toBe(false);
    expect(await rig.bot.services.sessions.getGenerationByMessage(result.id)).toBeDefined();
  });

  it('lets a member with Manage Messages delete someone else’s result', async () => {
    const result = await resultOf('a lighthouse keeper');
    const moderator = rig.discord.createUser({ username: 'mod' }, rig.discord.guild);
    rig.discord.assignRole(moderator, rig.discord.createRole(rig.discord.guild, 'Moderators', ['ManageMessages']));
    const handle = await press(result, 'Delete', moderator);
    expect((await handle.waitForFollowup()).content).toBe('Deleted.');
    expect(rig.discord.message(result.id).deleted).toBe(true);
  });
});

describe('the Delete button pressed twice at once', () => {
  it('deletes once and answers the second press with a sentence, not a failure', async () => {
    const result = await resultOf('a double-clicked heron');
    const [first, second] = await Promise.all([press(result, 'Delete'), press(result, 'Delete')]);
    const sentences = await Promise.all([first, second].map(privateSentence));
    expect(sentences).toContain('Deleted.');
    const other = sentences.find((sentence) => sentence !== 'Deleted.') ?? 'Deleted.';
    // Which press wins is a race; the loser either finds the message gone or the generation already forgotten.
    expect(['That picture was already deleted.', GONE_SENTENCE]).toContain(other);
    expect(rig.discord.message(result.id).deleted).toBe(true);
    expect(await rig.bot.services.sessions.getGenerationByMessage(result.id)).toBeUndefined();
  });
});

describe('a button whose generation is gone', () => {
  it('answers Reroll and Edit with a sentence and runs nothing', async () => {
    const result = await resultOf('a forgotten picture');
    const generation = await rig.bot.services.sessions.getGenerationByMessage(result.id);
    await rig.bot.services.sessions.deleteGeneration(generation!.id);
    const before = rig.emulator.received.length;
    const gone = GONE_SENTENCE;

    const reroll = await press(result, 'Reroll');
    expect(await privateSentence(reroll)).toBe(gone);
    // The public "thinking…" placeholder does not stay behind.
    await rig.discord.waitFor((call) => call.method === 'DELETE' && call.params.token === reroll.token);
    expect(await privateSentence(await press(result, 'Edit'))).toBe(gone);
    expect(rig.emulator.received).toHaveLength(before);
  });

  it('answers Reroll with the same sentence when its record was corrupted in the store', async () => {
    const result = await resultOf('a picture whose record breaks');
    const generation = await rig.bot.services.sessions.getGenerationByMessage(result.id);
    // Another process (or a person with the sqlite3 shell) breaks the row under the running bot.
    const database = new Database(path.join(rig.dataDir, 'comfycord.sqlite'));
    try {
      const changed = database
        .prepare('UPDATE records SET value = ? WHERE key = ?')
        .run('{"value": not json', recordKey('generations', generation!.id));
      expect(changed.changes).toBe(1);
    } finally {
      database.close();
    }
    const before = rig.emulator.received.length;
    const reroll = await press(result, 'Reroll');
    expect(await privateSentence(reroll)).toBe(GONE_SENTENCE);
    expect(rig.emulator.received).toHaveLength(before);
    recordFault('a corrupt store row', [{ deliveries: deliveriesOf(rig, reroll), sentences: 1 }]);
  });
});

/** The text inputs of a modal, by custom id. */
/** The text inputs of a modal (each in a Label) by custom id, with their pre-filled values. */
function textInputs(modal: Record<string, unknown>): Record<string, string> {
  const labels = (modal['components'] ?? []) as { component: { type: number; custom_id: string; value?: string } }[];
  const inputs = labels.map((label) => label.component).filter((input) => input.type === 4);
  return Object.fromEntries(inputs.map((input) => [input.custom_id, input.value ?? '']));
}
