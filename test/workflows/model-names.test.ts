import { describe, expect, it } from 'vitest';
import {
  choiceLabel,
  choiceValue,
  closestModels,
  rankModels,
  resolveModelName,
} from '../../src/workflows/model-names.js';

const files = [
  'v1-5-pruned-emaonly.safetensors',
  'sdxl/juggernautXL_v9.safetensors',
  'sdxl\\realvisXL_v40.safetensors',
  'sd15/dreamshaper_8.safetensors',
  'sdxl/dreamshaper_xl.safetensors',
  'Detail Tweaker.safetensors',
];

describe('resolving a typed model name', () => {
  it('finds the exact name, and the same file with other case, slashes, extension or folders', () => {
    expect(resolveModelName('sdxl/juggernautXL_v9.safetensors', files)).toEqual({
      ok: true,
      name: 'sdxl/juggernautXL_v9.safetensors',
    });
    expect(resolveModelName('SDXL/realvisxl_v40.safetensors', files)).toEqual({
      ok: true,
      name: 'sdxl\\realvisXL_v40.safetensors',
    });
    expect(resolveModelName('juggernautXL_v9', files)).toMatchObject({ name: 'sdxl/juggernautXL_v9.safetensors' });
    expect(resolveModelName('v1-5-pruned-emaonly', files)).toMatchObject({ name: 'v1-5-pruned-emaonly.safetensors' });
    expect(resolveModelName('detail_tweaker', files)).toMatchObject({ name: 'Detail Tweaker.safetensors' });
  });

  it('says which files a name could mean when it fits several', () => {
    expect(
      resolveModelName('dreamshaper', [...files, 'sd15/dreamshaper.ckpt', 'sdxl/dreamshaper.safetensors']),
    ).toEqual({ ok: false, ambiguous: true, candidates: ['sd15/dreamshaper.ckpt', 'sdxl/dreamshaper.safetensors'] });
  });

  it('offers the closest names for a typo or a partial name, and none for something unrelated', () => {
    expect(resolveModelName('juggernat', files)).toEqual({
      ok: false,
      ambiguous: false,
      candidates: ['sdxl/juggernautXL_v9.safetensors'],
    });
    expect(closestModels('dreamshaper', files)).toEqual([
      'sd15/dreamshaper_8.safetensors',
      'sdxl/dreamshaper_xl.safetensors',
    ]);
    expect(closestModels('zzzzzz', files)).toEqual([]);
  });
});

describe('autocomplete choices', () => {
  it('ranks file names starting with what was typed before those containing it', () => {
    expect(rankModels('dream', files)).toEqual(['sd15/dreamshaper_8.safetensors', 'sdxl/dreamshaper_xl.safetensors']);
    expect(rankModels('xl', files)).toEqual([
      'sdxl/dreamshaper_xl.safetensors',
      'sdxl/juggernautXL_v9.safetensors',
      'sdxl\\realvisXL_v40.safetensors',
    ]);
    expect(rankModels('sd15/', files)).toEqual(['sd15/dreamshaper_8.safetensors']);
  });

  it('offers at most 25 of hundreds of files', () => {
    const many = Array.from({ length: 300 }, (_, index) => `lora_${String(index).padStart(3, '0')}.safetensors`);
    expect(rankModels('', many)).toHaveLength(25);
    expect(rankModels('lora_1', many)[0]).toBe('lora_100.safetensors');
  });

  it('fits a name longer than 100 characters into a choice whose value resolves back to it', () => {
    const long = `sdxl/${'very-long-model-name-'.repeat(8)}v2.safetensors`;
    const value = choiceValue(long);
    expect(long.length).toBeGreaterThan(100);
    expect(value.length).toBeLessThanOrEqual(100);
    expect(choiceLabel(long).length).toBeLessThanOrEqual(100);
    expect(choiceLabel(long).endsWith('v2.safetensors')).toBe(true);
    expect(resolveModelName(value, [...files, long])).toEqual({ ok: true, name: long });
    const weighted = choiceValue(long, ':0.6');
    expect(weighted.length).toBeLessThanOrEqual(100);
    expect(weighted.endsWith(':0.6')).toBe(true);
    expect(choiceValue('short.safetensors', ':0.6')).toBe('short.safetensors:0.6');
  });
});
