/**
 * Deterministic "generated" pictures: a colour field whose palette comes from the prompt text and whose layout and
 * grain come from everything that seeds a sampler. Grain keeps PNGs realistically large (hundreds of KB at 512x512).
 */
import { createHash } from 'node:crypto';

/** What makes one sampled picture; equal keys give byte-identical frames. */
export interface SynthesisKey {
  readonly palette: string;
  readonly layout: string;
}

const GRAIN = 18;

/** Renders an RGB frame for `key` at the given size. */
export function synthesizeFrame(key: SynthesisKey, width: number, height: number): Buffer {
  const palette = createHash('sha256').update(key.palette).digest();
  const layout = createHash('sha256').update(key.layout).digest();
  const [first, second, third] = [0, 3, 6].map((start) =>
    [0, 1, 2].map((channel) => palette[start + channel] ?? 0),
  ) as [number[], number[], number[]];
  const angle = ((layout[0] ?? 0) / 255) * Math.PI * 2;
  const [cx, cy] = [((layout[1] ?? 0) / 255) * width, ((layout[2] ?? 0) / 255) * height];
  const radius = Math.max(1, (0.2 + ((layout[3] ?? 0) / 255) * 0.4) * Math.max(width, height));
  const random = mulberry32(layout.readUInt32LE(4));
  const frame = Buffer.alloc(width * height * 3);
  const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
  const span = Math.abs(cos) * width + Math.abs(sin) * height || 1;
  // The hot loop of every emulated picture (a 512 px frame is 786,432 values): plain arithmetic, no lookups.
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const along = ((x * cos + y * sin) / span + 1) % 1;
      const dx = x - cx;
      const dy = y - cy;
      const distance = Math.sqrt(dx * dx + dy * dy) / radius;
      const blob = distance < 1 ? (1 - distance) ** 2 : 0;
      const offset = (y * width + x) * 3;
      for (let channel = 0; channel < 3; channel += 1) {
        const base = mix(first[channel]!, second[channel]!, along);
        const value = mix(base, third[channel]!, blob) + (random() - 0.5) * 2 * GRAIN;
        frame[offset + channel] = clampByte(value);
      }
    }
  }
  return frame;
}

/** Adds sampler-like noise that fades as `progress` goes from 0 to 1 (used for preview frames). */
export function noisyFrame(frame: Buffer, progress: number, seed: number): Buffer {
  const random = mulberry32(seed);
  const amount = (1 - progress) * 255;
  const out = Buffer.alloc(frame.length);
  for (let offset = 0; offset < frame.length; offset += 1) {
    out[offset] = clampByte((frame[offset] ?? 0) * progress + 128 * (1 - progress) + (random() - 0.5) * amount);
  }
  return out;
}

/** A small, fast, seedable PRNG (mulberry32) returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}
