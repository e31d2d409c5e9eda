import { describe, expect, it } from 'vitest';
import {
  applyRefine,
  parseRefine,
  REFINE_HELP,
  refineHelp,
  type ActionableRefine,
  type RefineContext,
} from '../../src/sessions/refine.js';
import type { GenerationSettings } from '../../src/workflows/settings.js';

const text: RefineContext = { hasImage: false, ignorePrefix: '//' };
const withImage: RefineContext = { hasImage: true, ignorePrefix: '//' };

function actionable(reply: string, context: RefineContext = text): ActionableRefine {
  const refine = parseRefine(reply, context);
  if (refine.kind === 'ignore' || refine.kind === 'error') throw new Error(`expected a request, got ${refine.kind}`);
  return refine;
}

describe('parseRefine', () => {
  it('reads plain text as a new prompt', () => {
    expect(parseRefine('a grey wolf at dusk', text)).toEqual({
      kind: 'replace',
      prompt: 'a grey wolf at dusk',
      settings: {},
    });
  });

  it('reads plain text with flags as a new prompt and those settings', () => {
    expect(parseRefine('a grey wolf --ar 2:3 --no snow', text)).toEqual({
      kind: 'replace',
      prompt: 'a grey wolf',
      settings: { aspect: '2:3', negative: 'snow' },
    });
  });

  it('reads text after a + as an addition to the prompt', () => {
    expect(parseRefine('+ in the rain', text)).toEqual({ kind: 'append', text: 'in the rain', settings: {} });
    expect(parseRefine('  +wearing a hat --seed 3', text)).toEqual({
      kind: 'append',
      text: 'wearing a hat',
      settings: { seed: 3 },
    });
  });

  it('reads a + with flags but no text as a settings change', () => {
    expect(parseRefine('+ --steps 40', text)).toEqual({ kind: 'settings', settings: { steps: 40 } });
  });

  it('rejects a + with nothing after it, naming the +', () => {
    expect(parseRefine('+', text)).toMatchObject({
      kind: 'error',
      token: '+',
      message: expect.stringContaining('after the +'),
    });
    expect(parseRefine('  +   ', text)).toMatchObject({ kind: 'error', token: '+' });
  });

  it('reads flags alone as a change of only those settings', () => {
    expect(parseRefine('--seed 7', text)).toEqual({ kind: 'settings', settings: { seed: 7 } });
    expect(parseRefine('--ar 2:3 --cfg 5', text)).toEqual({ kind: 'settings', settings: { aspect: '2:3', cfg: 5 } });
  });

  it('reads "again" in any case as a reroll', () => {
    for (const reply of ['again', 'AGAIN', ' Again! ', 'again.']) {
      expect(parseRefine(reply, text)).toEqual({ kind: 'reroll', settings: {} });
    }
  });

  it('reads "again" with flags as a reroll with those settings', () => {
    expect(parseRefine('again --steps 40 --n 2', text)).toEqual({ kind: 'reroll', settings: { steps: 40, count: 2 } });
  });

  it('reads "again" inside a longer text as a prompt', () => {
    expect(parseRefine('again the fox', text)).toEqual({ kind: 'replace', prompt: 'again the fox', settings: {} });
  });

  it('ignores replies starting with the ignore prefix, even with flags', () => {
    expect(parseRefine('// nice one --seed 7', text)).toEqual({ kind: 'ignore' });
    expect(parseRefine('  //lol', withImage)).toEqual({ kind: 'ignore' });
  });

  it('honours another ignore prefix, and none when it is empty', () => {
    expect(parseRefine('# chatting', { hasImage: false, ignorePrefix: '#' })).toEqual({ kind: 'ignore' });
    expect(parseRefine('// a fox', { hasImage: false, ignorePrefix: '#' })).toMatchObject({ kind: 'replace' });
    expect(parseRefine('// a fox', { hasImage: false, ignorePrefix: '' })).toMatchObject({ kind: 'replace' });
  });

  it('ignores an empty reply without an image', () => {
    expect(parseRefine('', text)).toEqual({ kind: 'ignore' });
    expect(parseRefine(' \n ', text)).toEqual({ kind: 'ignore' });
  });

  it('reads an image alone as image-to-image keeping the prompt', () => {
    expect(parseRefine('', withImage)).toEqual({ kind: 'image', settings: {} });
  });

  it('reads an image with text as image-to-image with that prompt, applying flags', () => {
    expect(parseRefine('a fox in watercolour --denoise 0.6', withImage)).toEqual({
      kind: 'image',
      prompt: 'a fox in watercolour',
      settings: { denoise: 0.6 },
    });
  });

  it('reads an image with + text as image-to-image adding to the prompt', () => {
    expect(parseRefine('+ at night', withImage)).toEqual({ kind: 'image', append: 'at night', settings: {} });
  });

  it('reads an image with "again" or flags alone as image-to-image keeping the prompt', () => {
    expect(parseRefine('again', withImage)).toEqual({ kind: 'image', settings: {} });
    expect(parseRefine('--ar 3:2', withImage)).toEqual({ kind: 'image', settings: { aspect: '3:2' } });
  });

  it('passes on the flag parser’s error with the offending token', () => {
    expect(parseRefine('a fox --ar wide', text)).toMatchObject({
      kind: 'error',
      token: '--ar',
      message: expect.stringContaining('"wide"'),
    });
    expect(parseRefine('+ in rain --sed 4', text)).toMatchObject({ kind: 'error', token: '--sed' });
    expect(parseRefine('again --seed', withImage)).toMatchObject({ kind: 'error', token: '--seed' });
  });
});

describe('applyRefine', () => {
  const previous: GenerationSettings = {
    prompt: 'a red fox',
    negative: 'blurry',
    workflow: 'txt2img',
    aspect: '1:1',
    width: 1024,
    height: 1024,
    seed: 123,
    steps: 20,
  };

  it('replaces the prompt and keeps every other setting, the seed included', () => {
    expect(applyRefine(previous, actionable('a grey wolf'))).toEqual({
      prompt: 'a grey wolf',
      negative: 'blurry',
      workflow: 'txt2img',
      aspect: '1:1',
      width: 1024,
      height: 1024,
      seed: 123,
      steps: 20,
    });
  });

  it('appends to the previous prompt with a space', () => {
    expect(applyRefine(previous, actionable('+ in the snow')).prompt).toBe('a red fox in the snow');
    expect(applyRefine({ prompt: '' }, actionable('+ in the snow')).prompt).toBe('in the snow');
  });

  it('changes only the flagged settings', () => {
    const next = applyRefine(previous, actionable('--steps 30 --no trees'));
    expect(next).toEqual({ ...previous, steps: 30, negative: 'trees' });
  });

  it('keeps an explicit --seed', () => {
    expect(applyRefine(previous, actionable('--seed 7')).seed).toBe(7);
    expect(applyRefine(previous, actionable('a wolf --seed 0')).seed).toBe(0);
  });

  it('drops the seed on a reroll, unless the reroll names one', () => {
    const rerolled = applyRefine(previous, actionable('again'));
    expect(rerolled).not.toHaveProperty('seed');
    expect(rerolled).toMatchObject({ prompt: 'a red fox', steps: 20, width: 1024 });
    expect(applyRefine(previous, actionable('again --seed 9')).seed).toBe(9);
  });

  it('drops the old width and height when the aspect ratio changes', () => {
    const next = applyRefine(previous, actionable('--ar 2:3'));
    expect(next.aspect).toBe('2:3');
    expect(next).not.toHaveProperty('width');
    expect(next).not.toHaveProperty('height');
  });

  it('keeps, replaces or extends the prompt for image-to-image', () => {
    expect(applyRefine(previous, actionable('', withImage)).prompt).toBe('a red fox');
    expect(applyRefine(previous, actionable('an owl', withImage)).prompt).toBe('an owl');
    expect(applyRefine(previous, actionable('+ at night', withImage)).prompt).toBe('a red fox at night');
    expect(applyRefine(previous, actionable('', withImage)).seed).toBe(123);
  });

  it('adds --lora to the LoRAs of the picture, changes the weight of one it has, and takes one out at :0', () => {
    const withLoras = { ...previous, loras: [{ name: 'detail.safetensors', weight: 0.4 }] };
    expect(applyRefine(withLoras, actionable('--lora ink:0.6')).loras).toEqual([
      { name: 'detail.safetensors', weight: 0.4 },
      { name: 'ink', weight: 0.6 },
    ]);
    expect(applyRefine(withLoras, actionable('a wolf --lora detail:0.9')).loras).toEqual([
      { name: 'detail.safetensors', weight: 0.9 },
    ]);
    expect(applyRefine(withLoras, actionable('--lora detail:0')).loras).toEqual([]);
    expect(applyRefine(withLoras, actionable('a wolf')).loras).toEqual(withLoras.loras);
  });

  it('adds to the LoRAs the workflow ran by itself when the picture named none', () => {
    const own = [{ name: 'house-style.safetensors', weight: 0.7 }];
    expect(applyRefine(previous, actionable('--lora ink'), own).loras).toEqual([...own, { name: 'ink' }]);
    expect(applyRefine(previous, actionable('--steps 9'), own)).not.toHaveProperty('loras');
  });

  it('does not change the settings it was given', () => {
    const copy = structuredClone(previous);
    applyRefine(previous, actionable('--ar 2:3 --seed 1'));
    expect(previous).toEqual(copy);
  });
});

describe('the refine help', () => {
  it('is two short lines naming the ignore prefix', () => {
    const lines = REFINE_HELP.split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(140);
    expect(REFINE_HELP).toContain('`//`');
    expect(refineHelp('#')).toContain('`#`');
    expect(refineHelp('')).not.toContain('chat');
  });
});
