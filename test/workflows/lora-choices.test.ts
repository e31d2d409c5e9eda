import { describe, expect, it } from 'vitest';
import { mergeLoras, settleLoras } from '../../src/workflows/lora-choices.js';

const picture = [
  { name: 'loras/detail_tweaker.safetensors', weight: 0.8 },
  { name: 'ink-style.safetensors', weight: 0.5 },
];

describe('mergeLoras', () => {
  it('adds a new LoRA after the ones already there', () => {
    expect(mergeLoras(picture, [{ name: 'film grain', weight: 0.3 }])).toEqual([
      ...picture,
      { name: 'film grain', weight: 0.3 },
    ]);
  });

  it('changes the weight of one already there, however its name was typed, keeping its place and name', () => {
    expect(mergeLoras(picture, [{ name: 'detail_tweaker', weight: 0.2 }])).toEqual([
      { name: 'loras/detail_tweaker.safetensors', weight: 0.2 },
      picture[1],
    ]);
    expect(mergeLoras(picture, [{ name: 'INK-STYLE' }])).toEqual(picture);
  });

  it('takes one out at weight 0', () => {
    expect(mergeLoras(picture, [{ name: 'ink-style', weight: 0 }])).toEqual([picture[0]]);
    expect(
      mergeLoras(picture, [
        { name: 'ink-style', weight: 0 },
        { name: 'detail_tweaker.safetensors', weight: 0 },
      ]),
    ).toEqual([]);
  });

  it('keeps a 0 it cannot match yet, for the resolved names to settle', () => {
    expect(mergeLoras(picture, [{ name: 'detail', weight: 0 }])).toEqual([...picture, { name: 'detail', weight: 0 }]);
  });
});

describe('settleLoras', () => {
  it('keeps one entry per file, the last weight winning, and drops those at 0 with the file they name', () => {
    expect(
      settleLoras([
        { name: 'a.safetensors', weight: 0.5 },
        { name: 'b.safetensors' },
        { name: 'a.safetensors', weight: 0.9 },
        { name: 'b.safetensors', weight: 0 },
      ]),
    ).toEqual([{ name: 'a.safetensors', weight: 0.9 }]);
    expect(settleLoras([{ name: 'c.safetensors', weight: 0 }])).toEqual([]);
  });
});
