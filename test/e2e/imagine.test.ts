import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { refineFooter } from '../../src/discord/session-opener.js';
import type { InteractionHandle } from '../fakes/discord/index.js';
import { recordFault } from '../faults/ledger.js';
import { startRig, type Rig } from './harness.js';
import {
  buttonId,
  deliveriesOf,
  descriptionOf,
  editContents,
  emulatorOutput,
  fieldsOf,
  footerOf,
  galleryOf,
  imagine,
  isV2,
  nodeOfClass,
  pngImage,
  promptText,
  rowsOf,
  statusOf,
  waitForGraph,
  waitForRecorded,
  waitForResult,
  waitForUpload,
} from './helpers.js';

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

describe('/imagine end to end', () => {
  it('defers at once, shows progress, and posts the emulator’s image with its details, buttons and how to refine, opening no thread', async () => {
    // Slow enough for several progress edits at the rig's 50 ms card interval.
    rig.emulator.faults.stepMs = 40;
    const handle = await imagine(rig, { prompt: 'a red fox in the snow --seed 42 --steps 12' });
    // The fake refuses a callback after Discord's 3 s deadline, so a recorded one came in time.
    const callback = await handle.waitForCallback();
    expect(callback.type).toBe(5);

    const final = await waitForResult(handle);
    const statuses = editContents(handle.edits);
    expect(statuses.some((status) => /^(Queued, position \d+\.|Starting…)$/.test(status))).toBe(true);
    expect(statuses.some((status) => /^Running: \d+% \(step \d+\/12, [\d.]+ s elapsed\)\.$/.test(status))).toBe(true);
    expect(statusOf(final)).toMatch(/^Done in [\d.]+ s\.$/);
    // A Components V2 card from the first edit to the last: the flag on every edit, no content, no embeds.
    expect(handle.edits.length).toBeGreaterThan(1);
    for (const edit of handle.edits) expect(isV2(edit.body as { flags?: number })).toBe(true);
    expect(isV2(final)).toBe(true);
    expect([final.content, final.embeds]).toEqual(['', []]);
    // The progress edits carry a bar.
    const running = handle.edits.map((edit) => statusOf(edit.body as { components?: unknown[] }));
    expect(running.some((status) => /^Running: .*\n`[█░]{20}`$/.test(status))).toBe(true);

    const upload = await waitForUpload(rig, handle);
    expect(upload.files).toHaveLength(1);
    const written = await emulatorOutput(rig, upload.files[0]!.filename);
    expect(upload.files[0]!.data.equals(written)).toBe(true);
    expect(final.attachments[0]!.data.equals(written)).toBe(true);
    // The picture shows in the card's gallery, by the name it was uploaded under.
    expect(galleryOf(final)).toEqual([`attachment://${final.attachments[0]!.filename}`]);

    const graph = await waitForGraph(rig, 'a red fox in the snow');
    expect(descriptionOf(final)).toBe('a red fox in the snow');
    const latent = nodeOfClass(graph, 'EmptyLatentImage').inputs;
    expect(fieldsOf(final)).toEqual({
      Negative: promptText(graph, 'negative'),
      Seed: '42',
      Size: `${String(latent['width'])}×${String(latent['height'])}`,
      Workflow: 'txt2img',
      Time: expect.stringMatching(/^[\d.]+ s$/),
    });
    expect(rowsOf(final)).toEqual([['Upscale'], ['Vary'], ['Reroll', 'Edit', 'Refine in thread', 'Delete']]);
    expect(footerOf(final)).toBe(refineFooter('en-US', '//'));

    // The session is the reply chain on the card: no thread and no message of its own until a member asks.
    expect((await waitForRecorded(rig, final)).sessionId).toBe(final.id);
    expect(final.threadId).toBeNull();
    expect(rig.discord.threads()).toHaveLength(0);
    expect(rig.discord.messagesIn(rig.discord.channel).filter((message) => message.id !== final.id)).toHaveLength(0);
  });

  it('carries the inline flags into the graph the server runs: seed, size for --ar, steps, cfg and --no', async () => {
    const handle = await imagine(rig, {
      prompt: 'a lighthouse at dusk --seed 1234 --ar 16:9 --steps 12 --cfg 5.5 --no fog, rain',
    });
    const final = await waitForResult(handle);
    const graph = await waitForGraph(rig, 'a lighthouse at dusk');
    const sampler = nodeOfClass(graph, 'KSampler').inputs;
    expect(sampler).toMatchObject({ seed: 1234, steps: 12, cfg: 5.5 });
    expect(promptText(graph, 'negative')).toBe('fog, rain');
    const { width, height } = nodeOfClass(graph, 'EmptyLatentImage').inputs as { width: number; height: number };
    expect(width / height).toBeCloseTo(16 / 9, 1);
    expect(width % 8).toBe(0);
    expect(height % 8).toBe(0);
    expect(fieldsOf(final)).toMatchObject({ Seed: '1234', Size: `${width}×${height}`, Negative: 'fog, rain' });
  });

  it('makes four images in one batch when asked for four, and attaches all four', async () => {
    const handle = await imagine(rig, { prompt: 'four little boats', count: 4 });
    const final = await waitForResult(handle);
    const graph = await waitForGraph(rig, 'four little boats');
    expect(nodeOfClass(graph, 'EmptyLatentImage').inputs['batch_size']).toBe(4);
    const upload = await waitForUpload(rig, handle);
    expect(upload.files).toHaveLength(4);
    for (const file of upload.files) expect(file.data.equals(await emulatorOutput(rig, file.filename))).toBe(true);
    expect(final.attachments).toHaveLength(4);
    expect(fieldsOf(final)['Images']).toBe('4');
    expect(galleryOf(final)).toEqual(final.attachments.map((attachment) => `attachment://${attachment.filename}`));
    expect(rowsOf(final)).toEqual([
      ['Upscale 1', 'Upscale 2', 'Upscale 3', 'Upscale 4'],
      ['Vary 1', 'Vary 2', 'Vary 3', 'Vary 4'],
      ['Reroll', 'Edit', 'Refine in thread', 'Delete'],
    ]);
  });

  it('runs image-to-image from an attached picture: the server’s LoadImage gets the member’s exact bytes', async () => {
    const picture = await pngImage(96, 64);
    const handle = await imagine(
      rig,
      { prompt: 'make it a watercolour' },
      { attachments: { image: { name: 'sketch.png', data: picture } } },
    );
    const final = await waitForResult(handle);
    const graph = await waitForGraph(rig, 'make it a watercolour');
    const loaded = String(nodeOfClass(graph, 'LoadImage').inputs['image']);
    expect(loaded).toMatch(/^comfycord\//);
    const onServer = await readFile(path.join(rig.emulator.dataDir, 'input', loaded));
    expect(onServer.equals(picture)).toBe(true);
    expect(fieldsOf(final)['Workflow']).toBe('img2img');
  });

  it('rerolls from the Reroll button: a new card with the same prompt and a different seed', async () => {
    const first = await imagine(rig, { prompt: 'a snail on a leaf --seed 7' });
    const result = await waitForResult(first);
    // As a member would: the card is recorded before anyone presses a button.
    await waitForRecorded(rig, result);
    const reroll = await rig.discord.pressButton(result, buttonId(result, 'Reroll'), rig.discord.member);
    expect((await reroll.waitForCallback()).type).toBe(5);
    const card = await waitForResult(reroll);
    expect(card.id).not.toBe(result.id);
    expect(descriptionOf(card)).toBe('a snail on a leaf');
    const [before, after] = [
      await waitForGraph(rig, 'a snail on a leaf'),
      await waitForGraph(rig, 'a snail on a leaf', 2),
    ];
    expect(nodeOfClass(before, 'KSampler').inputs['seed']).toBe(7);
    const newSeed = nodeOfClass(after, 'KSampler').inputs['seed'];
    expect(newSeed).not.toBe(7);
    expect(fieldsOf(card)['Seed']).toBe(String(newSeed));
    expect(promptText(after, 'positive')).toBe(promptText(before, 'positive'));
  });
});

/** The one private sentence a refused command got, checking nothing reached the image server. */
async function refusal(handle: InteractionHandle, receivedBefore: number): Promise<string> {
  const callback = await handle.waitForCallback();
  expect(callback.type).toBe(4);
  expect(Number(callback.data?.['flags']) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  expect(handle.edits).toHaveLength(0);
  expect(rig.emulator.received).toHaveLength(receivedBefore);
  return String(callback.data?.['content']);
}

describe('/imagine refusals', () => {
  it('refuses an unknown flag with one private sentence naming it, and sends nothing to the server', async () => {
    const before = rig.emulator.received.length;
    const handle = await imagine(rig, { prompt: 'a castle --sharpness 3' });
    expect(await refusal(handle, before)).toMatch(/--sharpness/);
  });

  it('refuses a flag with a malformed value, naming the flag', async () => {
    const before = rig.emulator.received.length;
    const handle = await imagine(rig, { prompt: 'a castle --steps many' });
    expect(await refusal(handle, before)).toMatch(/--steps/);
  });

  it('refuses a workflow that does not exist and lists the ones that do', async () => {
    const before = rig.emulator.received.length;
    const handle = await imagine(rig, { prompt: 'a castle', workflow: 'portrait' });
    const sentence = await refusal(handle, before);
    expect(sentence).toMatch(/no workflow called portrait/);
    expect(sentence).toMatch(/txt2img/);
  });

  it('refuses a prompt longer than MAX_PROMPT_LENGTH, saying how long it is and what the limit is', async () => {
    const before = rig.emulator.received.length;
    const handle = await imagine(rig, { prompt: 'a very long castle '.repeat(80).trim() });
    expect(await refusal(handle, before)).toBe('Your prompt is 1519 characters long; the limit is 1500.');
  });

  it('refuses an attachment that is not an image before downloading it', async () => {
    const before = rig.emulator.received.length;
    const downloads = rig.discord.downloads.length;
    const handle = await imagine(
      rig,
      { prompt: 'redraw this' },
      { attachments: { image: { name: 'notes.txt', data: 'not a picture' } } },
    );
    expect(await refusal(handle, before)).toBe(
      'notes.txt is not an image I can read; attach a PNG, JPEG or WebP picture.',
    );
    expect(rig.discord.downloads).toHaveLength(downloads);
  });

  it('refuses an attachment that claims to be a PNG but is not, privately, after looking at it', async () => {
    const before = rig.emulator.received.length;
    const handle = await imagine(
      rig,
      { prompt: 'redraw this' },
      { attachments: { image: { name: 'fake.png', data: 'GIF89a but not really', contentType: 'image/png' } } },
    );
    expect((await handle.waitForCallback()).type).toBe(5);
    const followup = await handle.waitForFollowup();
    expect(followup.content).toBe('fake.png is not an image I can read; attach a PNG, JPEG or WebP picture.');
    expect(followup.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    // The public "thinking…" placeholder does not stay behind.
    await rig.discord.waitFor((call) => call.method === 'DELETE' && call.params.token === handle.token);
    expect(handle.original?.deleted).toBe(true);
    expect(rig.emulator.received).toHaveLength(before);
  });

  it('explains in a private sentence that the bot lacks Attach Files in the channel', async () => {
    const channel = rig.discord.createTextChannel({ name: 'no-files' });
    rig.discord.denyBotPermissions(channel, ['AttachFiles']);
    const before = rig.emulator.received.length;
    const handle = await imagine(rig, { prompt: 'a castle' }, { channel: channel.id });
    expect(await refusal(handle, before)).toBe(
      'I cannot post results in this channel: I lack the Attach Files permission here. Ask a moderator to grant it.',
    );
    recordFault('a missing permission', [{ deliveries: deliveriesOf(rig, handle), sentences: 1 }]);
  });
});
