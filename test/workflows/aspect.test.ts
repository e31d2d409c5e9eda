import { describe, expect, it } from 'vitest';
import { aspectOf, inferResolution, sizeForAspect, snapToMultiple } from '../../src/workflows/aspect.js';
import { ASPECT_CHOICES } from '../../src/workflows/settings.js';

const SDXL = { base: 1024, multiple: 64 };
const SD15 = { base: 512, multiple: 8 };

describe('aspect ratio to size', () => {
  it('gives SDXL sizes on its 64-pixel grid, matching its trained buckets where they are closest', () => {
    expect(sizeForAspect('1:1', SDXL)).toEqual({ width: 1024, height: 1024 });
    expect(sizeForAspect('16:9', SDXL)).toEqual({ width: 1344, height: 768 });
    expect(sizeForAspect('9:16', SDXL)).toEqual({ width: 768, height: 1344 });
    // 1280×832 is nearer 3:2 and 1024² than the 1216×832 bucket.
    expect(sizeForAspect('3:2', SDXL)).toEqual({ width: 1280, height: 832 });
    expect(sizeForAspect('4:3', SDXL)).toEqual({ width: 1152, height: 896 });
  });

  it('snaps SD1.5 sizes to multiples of 8 around 512²', () => {
    expect(sizeForAspect('1:1', SD15)).toEqual({ width: 512, height: 512 });
    expect(sizeForAspect('16:9', SD15)).toEqual({ width: 680, height: 384 });
    expect(sizeForAspect('2:3', SD15)).toEqual({ width: 416, height: 624 });
  });

  it('keeps every offered ratio within a few percent of base² pixels and of the ratio asked', () => {
    for (const resolution of [SD15, SDXL]) {
      for (const aspect of ASPECT_CHOICES) {
        const { width, height } = sizeForAspect(aspect, resolution);
        const [a, b] = aspect.split(':').map(Number) as [number, number];
        expect(width % resolution.multiple, `${aspect} width`).toBe(0);
        expect(height % resolution.multiple, `${aspect} height`).toBe(0);
        expect(Math.abs((width * height) / resolution.base ** 2 - 1), `${aspect} area`).toBeLessThan(0.06);
        expect(Math.abs(width / height / (a / b) - 1), `${aspect} ratio`).toBeLessThan(0.06);
      }
    }
  });

  it('handles the extreme 4:1 ratio without going below one multiple', () => {
    expect(sizeForAspect('4:1', SDXL)).toEqual({ width: 2048, height: 512 });
    expect(sizeForAspect('1:4', { base: 64, multiple: 64 })).toEqual({ width: 64, height: 128 });
  });

  it('snaps to the nearest multiple, never to zero', () => {
    expect(snapToMultiple(1000, 64)).toBe(1024);
    expect(snapToMultiple(1000, 8)).toBe(1000);
    expect(snapToMultiple(3, 8)).toBe(8);
  });

  it('names the ratio of a size as people write it', () => {
    expect(aspectOf(1344, 768)).toBe('7:4');
    expect(aspectOf(512, 512)).toBe('1:1');
    expect(aspectOf(1216, 832)).toBe('19:13');
    // 1001:1000 has large terms, so the nearest simple ratio is given.
    expect(aspectOf(1001, 1000)).toBe('1:1');
  });

  it('infers the base resolution and multiple from a latent size', () => {
    expect(inferResolution(512, 512)).toEqual({ base: 512, multiple: 8 });
    expect(inferResolution(512, 768)).toEqual({ base: 640, multiple: 8 });
    expect(inferResolution(1024, 1024)).toEqual({ base: 1024, multiple: 64 });
    expect(inferResolution(1344, 768)).toEqual({ base: 1024, multiple: 64 });
  });
});
