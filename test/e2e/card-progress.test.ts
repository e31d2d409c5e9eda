/**
 * The progress card as members watch it: a Components V2 card from the queue to the end, with a bar, the step and
 * the live preview (ComfyUI's previews, sent by the emulator) in the gallery, which the finished pictures replace.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './harness.js';
import {
  buttonLabels,
  galleryOf,
  imagine,
  isV2,
  promptOf,
  statusOf,
  waitForEnd,
  waitForResult,
  buttonId,
} from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  // One prompt at a time, so a second job waits in the bot's queue.
  rig = await startRig({
    emulator: { stepMs: 40, previews: true },
    env: { COMFY_PROMPTS_PER_SERVER: '1', MAX_JOBS_PER_MEMBER: '10' },
  });
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

type Body = { flags?: number; components?: unknown[]; attachments?: { filename: string }[] };

describe('the progress card', () => {
  it('shows a bar, the step and the live preview in the card’s gallery, then the pictures in its place', async () => {
    const handle = await imagine(rig, { prompt: 'a lantern in the fog --steps 12' });
    const running = await handle.waitForOriginal(
      (message) => statusOf(message).startsWith('Running:') && message.attachments.length > 0,
      20_000,
    );
    expect(statusOf(running)).toMatch(/^Running: \d+% \(step \d+\/12, [\d.]+ s elapsed\)\.\n`[█░]{20}`$/);
    expect(promptOf(running)).toBe('a lantern in the fog');
    const [preview] = running.attachments;
    expect(preview!.filename).toMatch(/^preview\.(png|jpg)$/);
    expect(galleryOf(running)).toEqual([`attachment://${preview!.filename}`]);
    expect(buttonLabels(running)).toEqual(['Cancel']);

    const final = await waitForResult(handle);
    // The preview is gone: the gallery shows the result, the only attachment left.
    expect(final.attachments.map((attachment) => attachment.filename)).not.toContain(preview!.filename);
    expect(galleryOf(final)).toEqual(final.attachments.map((attachment) => `attachment://${attachment.filename}`));
    // Every edit, first to last, was a Components V2 body.
    for (const edit of handle.edits) expect(isV2(edit.body as Body)).toBe(true);
  });

  it('shows a waiting job’s queue position, and its cancellation, in the same V2 card', async () => {
    const first = await imagine(rig, { prompt: 'a slow first lantern --steps 40' });
    await first.waitForOriginal((message) => statusOf(message).startsWith('Running:'), 20_000);
    const second = await imagine(rig, { prompt: 'a lantern that waits' });
    const queued = await second.waitForOriginal((message) => statusOf(message) === 'Queued, position 1.', 20_000);
    expect(isV2(queued)).toBe(true);
    expect(promptOf(queued)).toBe('a lantern that waits');
    for (const handle of [second, first]) {
      const card = handle.original!;
      await rig.discord.pressButton(card, buttonId(card, 'Cancel'), rig.discord.member);
      const ended = await waitForEnd(handle);
      expect(statusOf(ended)).toBe('Cancelled.');
      expect([isV2(ended), ended.attachments, buttonLabels(ended)]).toEqual([true, [], []]);
    }
  });
});
