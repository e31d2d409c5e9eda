import { ButtonStyle } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { buttonId, formatSeconds, parseButtonId, renderCard, type CardDetails } from '../../src/discord/cards.js';

const details: CardDetails = {
  prompt: 'a red fox',
  negative: 'trees',
  workflow: 'txt2img',
  seed: 42,
  width: 512,
  height: 768,
};

describe('renderCard', () => {
  it('shows the queue position with a Cancel button', () => {
    const card = renderCard('job1', details, { phase: 'queued', position: 3 });
    expect(card.content).toBe('Queued, position 3.');
    expect(card.components[0]!.components[0]).toMatchObject({ custom_id: 'cancel:job1', label: 'Cancel' });
    expect(card.embeds[0]!.description).toBe('a red fox');
  });

  it('shows percent, step and elapsed time while running, and the preview when there is one', () => {
    const preview = { name: 'preview.jpg', data: Buffer.from('jpg'), contentType: 'image/jpeg' };
    const card = renderCard('job1', details, { phase: 'running', value: 5, max: 20, elapsedMs: 3200, preview });
    expect(card.content).toBe('Running: 25% (step 5/20, 3.2 s elapsed).');
    expect(card.embeds[0]!.image).toEqual({ url: 'attachment://preview.jpg' });
    expect(card.files).toEqual([preview]);
  });

  it('lists prompt, negative, seed, size, workflow and time on the finished card, with its buttons', () => {
    const file = { name: 'fox.png', data: Buffer.from('png'), contentType: 'image/png' };
    const card = renderCard('job1', details, {
      phase: 'done',
      files: [file],
      durationMs: 12_345,
      notes: ['Re-encoded as WebP.'],
      generationId: 'g1',
    });
    const fields = Object.fromEntries(card.embeds[0]!.fields!.map((field) => [field.name, field.value]));
    expect(fields).toEqual({ Negative: 'trees', Seed: '42', Size: '512×768', Workflow: 'txt2img', Time: '12.3 s' });
    expect(card.content).toBe('Done in 12.3 s.\nRe-encoded as WebP.');
    const buttons = card.components.flatMap((row) => row.components);
    expect(buttons.map((button) => ('custom_id' in button ? button.custom_id : ''))).toEqual([
      'reroll:g1',
      'vary:g1',
      'edit:g1',
      'delete:g1',
      'upscale:g1:0',
    ]);
    expect(buttons[3]!.style).toBe(ButtonStyle.Danger);
    expect(card.files).toEqual([file]);
  });

  it('says how to refine in the footer and offers a thread before Delete, when asked to', () => {
    const file = { name: 'fox.png', data: Buffer.from('png'), contentType: 'image/png' };
    const done = { phase: 'done', files: [file], durationMs: 1, notes: [], generationId: 'g1' } as const;
    const card = renderCard('job1', details, { ...done, refineHelp: 'Reply to refine.', threadButton: true });
    expect(card.embeds[0]!.footer).toEqual({ text: 'Reply to refine.' });
    const labels = card.components[0]!.components.map((button) => ('label' in button ? button.label : ''));
    expect(labels).toEqual(['Reroll', 'Vary', 'Edit', 'Refine in thread', 'Delete']);
    expect(card.components[0]!.components[3]).toMatchObject({ custom_id: 'thread:g1', style: ButtonStyle.Secondary });
    // Without them (where threads cannot open), neither.
    const plain = renderCard('job1', details, done);
    expect(plain.embeds[0]!.footer).toBeUndefined();
    expect(plain.components[0]!.components).toHaveLength(4);
  });

  it('offers one Upscale button per image', () => {
    const files = [0, 1, 2, 3].map((index) => ({ name: `${index}.png`, data: Buffer.alloc(1) }));
    const card = renderCard('job1', details, { phase: 'done', files, durationMs: 1, notes: [], generationId: 'g1' });
    expect(card.components[1]!.components.map((button) => ('label' in button ? button.label : ''))).toEqual([
      'Upscale 1',
      'Upscale 2',
      'Upscale 3',
      'Upscale 4',
    ]);
  });

  it('leaves Vary and Upscale off when no image could be attached', () => {
    const card = renderCard('job1', details, {
      phase: 'done',
      files: [],
      durationMs: 1,
      notes: ['The image was too large to attach.'],
      generationId: 'g1',
    });
    expect(card.components).toHaveLength(1);
    expect(card.components[0]!.components.map((button) => ('label' in button ? button.label : ''))).toEqual([
      'Reroll',
      'Edit',
      'Delete',
    ]);
  });

  it('shows texts in the embed and offers Vary and Upscale only for still images', () => {
    const files = [
      { name: 'clip.mp4', data: Buffer.alloc(1), contentType: 'video/mp4' },
      { name: 'loop.gif', data: Buffer.alloc(1), contentType: 'image/gif' },
      { name: 'still.png', data: Buffer.alloc(1), contentType: 'image/png' },
    ];
    const texts = [{ label: 'Text', text: 'a fox, in snow' }];
    const card = renderCard('job1', details, {
      phase: 'done',
      files,
      texts,
      durationMs: 1,
      notes: [],
      generationId: 'g1',
    });
    expect(card.embeds[0]!.fields).toContainEqual({ name: 'Text', value: 'a fox, in snow', inline: false });
    const ids = card.components.flatMap((row) =>
      row.components.map((button) => ('custom_id' in button ? button.custom_id : '')),
    );
    expect(ids).toEqual(['reroll:g1', 'vary:g1:2', 'edit:g1', 'delete:g1', 'upscale:g1:2']);
    expect(card.files).toEqual(files);
  });

  it('shows a failure as one sentence and no buttons', () => {
    const card = renderCard('job1', details, { phase: 'failed', sentence: 'The image server could not be reached.' });
    expect(card.content).toBe('❌ The image server could not be reached.');
    expect(card.components).toEqual([]);
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
