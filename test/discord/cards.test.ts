import { ButtonStyle, ComponentType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import {
  buttonId,
  formatSeconds,
  parseButtonId,
  pendingCard,
  progressBar,
  renderCard,
  sentenceCard,
  type CardDetails,
  type CardFile,
} from '../../src/discord/cards.js';
import { prefixFirstText } from '../../src/discord/card-layout.js';
import {
  buttonsOf,
  componentsOf,
  fieldsOf,
  footerOf,
  galleryOf,
  promptOf,
  rowsOf,
  statusOf,
  textsOf,
} from '../e2e/card-reader.js';

const details: CardDetails = {
  prompt: 'a red fox',
  negative: 'trees',
  workflow: 'txt2img',
  seed: 42,
  width: 512,
  height: 768,
};

const png = (name: string): CardFile => ({ name, data: Buffer.from('png'), contentType: 'image/png' });
const done = (files: CardFile[], more: Partial<Extract<Parameters<typeof renderCard>[2], { phase: 'done' }>> = {}) =>
  renderCard('job1', details, { phase: 'done', files, durationMs: 12_345, notes: [], generationId: 'g1', ...more });

/** The characters of all Text Displays and the components counted as Discord counts them. */
function limitsOf(card: ReturnType<typeof renderCard>) {
  return { text: textsOf(card).join('').length, components: componentsOf(card).length };
}

describe('renderCard', () => {
  it('shows the queue position, the prompt and settings, and a Cancel button, in one container', () => {
    const card = renderCard('job1', details, { phase: 'queued', position: 3 });
    expect(card.components).toHaveLength(1);
    expect(card.components[0]!.type).toBe(ComponentType.Container);
    expect(statusOf(card)).toBe('Queued, position 3.');
    expect(promptOf(card)).toBe('a red fox');
    expect(buttonsOf(card)).toEqual([{ type: 2, custom_id: 'cancel:job1', label: 'Cancel', style: 2 }]);
  });

  it('shows percent, step, elapsed time and a bar while running, and the live preview in a gallery', () => {
    const preview = { name: 'preview.jpg', data: Buffer.from('jpg'), contentType: 'image/jpeg' };
    const card = renderCard('job1', details, { phase: 'running', value: 5, max: 20, elapsedMs: 3200, preview });
    expect(statusOf(card)).toBe(`Running: 25% (step 5/20, 3.2 s elapsed).\n${progressBar(25)}`);
    expect(galleryOf(card)).toEqual(['attachment://preview.jpg']);
    expect(card.files).toEqual([preview]);
    // Without a preview yet, no gallery and no file.
    const early = renderCard('job1', details, { phase: 'running', value: 1, max: 20, elapsedMs: 100 });
    expect(galleryOf(early)).toEqual([]);
    expect(early.files).toEqual([]);
  });

  it('draws the bar in 20 blocks of 5 %', () => {
    expect(progressBar(0)).toBe(`\`${'░'.repeat(20)}\``);
    expect(progressBar(25)).toBe(`\`${'█'.repeat(5)}${'░'.repeat(15)}\``);
    expect(progressBar(100)).toBe(`\`${'█'.repeat(20)}\``);
  });

  it('lists prompt, negative, seed, size, workflow and time on the finished card, the image in a gallery', () => {
    const file = png('fox.png');
    const card = done([file], { notes: ['Re-encoded as WebP.'] });
    expect(fieldsOf(card)).toEqual({
      Negative: 'trees',
      Seed: '42',
      Size: '512×768',
      Workflow: 'txt2img',
      Time: '12.3 s',
    });
    expect(statusOf(card)).toBe('Done in 12.3 s.\nRe-encoded as WebP.');
    expect(galleryOf(card)).toEqual(['attachment://fox.png']);
    expect(card.files).toEqual([file]);
  });

  it('offers Upscale and Vary for a single image, then Reroll, Edit and Delete', () => {
    const card = done([png('fox.png')]);
    expect(rowsOf(card)).toEqual([['Upscale'], ['Vary'], ['Reroll', 'Edit', 'Delete']]);
    expect(buttonsOf(card).map((button) => button.custom_id)).toEqual([
      'upscale:g1:0',
      'vary:g1',
      'reroll:g1',
      'edit:g1',
      'delete:g1',
    ]);
    expect(buttonsOf(card).map((button) => button.style)).toEqual([
      ButtonStyle.Secondary,
      ButtonStyle.Secondary,
      ButtonStyle.Primary,
      ButtonStyle.Secondary,
      ButtonStyle.Danger,
    ]);
  });

  it('offers a row of Upscale 1–4 and a row of Vary 1–4 for four images, shown as one gallery', () => {
    const files = [0, 1, 2, 3].map((index) => png(`${index}.png`));
    const card = done(files);
    expect(galleryOf(card)).toEqual(files.map((file) => `attachment://${file.name}`));
    expect(rowsOf(card)).toEqual([
      ['Upscale 1', 'Upscale 2', 'Upscale 3', 'Upscale 4'],
      ['Vary 1', 'Vary 2', 'Vary 3', 'Vary 4'],
      ['Reroll', 'Edit', 'Delete'],
    ]);
    // Vary of the first image keeps the id cards had before per-image buttons.
    expect(
      buttonsOf(card)
        .map((button) => button.custom_id)
        .slice(0, 8),
    ).toEqual([
      'upscale:g1:0',
      'upscale:g1:1',
      'upscale:g1:2',
      'upscale:g1:3',
      'vary:g1',
      'vary:g1:1',
      'vary:g1:2',
      'vary:g1:3',
    ]);
  });

  it('keeps a batch of ten within Discord’s limits: two rows of five per kind, under 40 components', () => {
    const files = Array.from({ length: 10 }, (_, index) => png(`${index}.png`));
    const card = done(files, { texts: [{ label: 'Text', text: 'a caption' }], refineHelp: 'Reply to refine.' });
    expect(rowsOf(card).map((row) => row.length)).toEqual([5, 5, 5, 5, 3]);
    expect(limitsOf(card).components).toBeLessThanOrEqual(40);
    expect(galleryOf(card)).toHaveLength(10);
  });

  it('fits a very long prompt and texts into 4,000 characters, shortening the prompt first', () => {
    const long = { ...details, prompt: 'fox '.repeat(2000) };
    const texts = [1, 2, 3].map((n) => ({ label: `Text ${n}`, text: 'y'.repeat(5000) }));
    const card = renderCard('job1', long, {
      phase: 'done',
      files: [png('a.png')],
      texts,
      durationMs: 1,
      notes: [],
      generationId: 'g1',
    });
    expect(limitsOf(card).text).toBeLessThanOrEqual(4000);
    // Posted in the channel, the card mentions the member first, and still fits.
    const mentioned = { ...card, components: prefixFirstText(card.components, `<@${'9'.repeat(20)}> `) };
    expect(limitsOf(mentioned).text).toBeLessThanOrEqual(4000);
    expect(promptOf(card)!.length).toBeGreaterThanOrEqual(200);
    expect(promptOf(card)!.endsWith('…')).toBe(true);
    // Each text is cut to 800 characters (the presenter attaches longer ones as files).
    expect(textsOf(card).filter((text) => text.startsWith('**Text'))).toHaveLength(1);
  });

  it('says how to refine in small print at the foot and offers a thread before Delete, when asked to', () => {
    const card = done([png('fox.png')], { refineHelp: 'Reply to refine.', threadButton: true });
    expect(footerOf(card)).toBe('Reply to refine.');
    expect(rowsOf(card).at(-1)).toEqual(['Reroll', 'Edit', 'Refine in thread', 'Delete']);
    expect(buttonsOf(card).find((button) => button.custom_id === 'thread:g1')?.style).toBe(ButtonStyle.Secondary);
    // Without them (where threads cannot open), neither.
    const plain = done([png('fox.png')]);
    expect(footerOf(plain)).toBeUndefined();
    expect(rowsOf(plain).at(-1)).toEqual(['Reroll', 'Edit', 'Delete']);
  });

  it('leaves Vary, Upscale and the gallery off when no image could be attached', () => {
    const card = done([], { notes: ['The image was too large to attach.'] });
    expect(galleryOf(card)).toEqual([]);
    expect(rowsOf(card)).toEqual([['Reroll', 'Edit', 'Delete']]);
  });

  it('shows texts, puts videos and GIFs in the gallery, other files as files, Vary and Upscale for stills only', () => {
    const files = [
      { name: 'clip.mp4', data: Buffer.alloc(1), contentType: 'video/mp4' },
      { name: 'loop.gif', data: Buffer.alloc(1), contentType: 'image/gif' },
      { name: 'still.png', data: Buffer.alloc(1), contentType: 'image/png' },
      { name: 'voice.flac', data: Buffer.alloc(1), contentType: 'audio/flac' },
    ];
    const card = done(files, { texts: [{ label: 'Text', text: 'a fox, in snow' }] });
    expect(textsOf(card)).toContain('**Text**\na fox, in snow');
    expect(galleryOf(card)).toEqual(['attachment://clip.mp4', 'attachment://loop.gif', 'attachment://still.png']);
    const fileComponents = componentsOf(card).filter((component) => component.type === ComponentType.File);
    expect(fileComponents).toEqual([expect.objectContaining({ file: { url: 'attachment://voice.flac' } })]);
    expect(buttonsOf(card).map((button) => button.custom_id)).toEqual([
      'upscale:g1:2',
      'vary:g1:2',
      'reroll:g1',
      'edit:g1',
      'delete:g1',
    ]);
    expect(card.files).toEqual(files);
  });

  it('uploads files under names an attachment:// reference finds, two of one name kept apart', () => {
    const card = done([png('my fox.png'), png('my_fox.png')]);
    expect(card.files.map((file) => file.name)).toEqual(['my_fox.png', 'my_fox-2.png']);
    expect(galleryOf(card)).toEqual(['attachment://my_fox.png', 'attachment://my_fox-2.png']);
  });

  it('shows a failure as one sentence with the prompt, and no buttons', () => {
    const card = renderCard('job1', details, { phase: 'failed', sentence: 'The image server could not be reached.' });
    expect(statusOf(card)).toBe('❌ The image server could not be reached.');
    expect(promptOf(card)).toBe('a red fox');
    expect(buttonsOf(card)).toEqual([]);
  });

  it('says who cancelled, in the member’s language', () => {
    const card = renderCard('job1', { ...details, locale: 'de' }, { phase: 'cancelled', by: '123456789012345678' });
    expect(statusOf(card)).toContain('<@123456789012345678>');
    expect(buttonsOf(card)).toEqual([]);
  });

  it('gives a refine its first card without a Cancel button (its job does not exist yet)', () => {
    const card = pendingCard({ prompt: 'a fox', workflow: 'txt2img' });
    expect(statusOf(card)).toBe('Starting…');
    expect(buttonsOf(card)).toEqual([]);
  });

  it('makes a one-sentence card for where the outcome went', () => {
    const card = sentenceCard('Finished elsewhere.');
    expect(textsOf(card)).toEqual(['Finished elsewhere.']);
  });
});

describe('button ids', () => {
  it('round-trips through parseButtonId', () => {
    expect(parseButtonId(buttonId('upscale', 'g1', 2))).toEqual({ kind: 'upscale', id: 'g1', extra: '2' });
    expect(parseButtonId(buttonId('reroll', 'g1'))).toEqual({ kind: 'reroll', id: 'g1' });
    expect(parseButtonId(buttonId('thread', 'g1'))).toEqual({ kind: 'thread', id: 'g1' });
  });

  it('refuses ids that are not ours', () => {
    expect(parseButtonId('something:else')).toBeNull();
    expect(parseButtonId('reroll')).toBeNull();
  });
});

describe('formatSeconds', () => {
  it('writes seconds below a minute and minutes above', () => {
    expect(formatSeconds(900)).toBe('0.9 s');
    expect(formatSeconds(125_000)).toBe('2 min 5 s');
  });
});
