/**
 * The emulator's stand-ins for ComfyUI's tensors: an IMAGE is a batch of 8-bit RGB frames, a MASK a batch of 8-bit
 * single-channel frames, a LATENT remembers the pixels it would decode to.
 */

/** ComfyUI's IMAGE: `[batch, height, width, 3]`. */
export interface ImageBatch {
  readonly kind: 'image';
  readonly width: number;
  readonly height: number;
  /** One RGB buffer (width * height * 3 bytes) per batch item. */
  readonly frames: readonly Buffer[];
}

/** ComfyUI's MASK: `[batch, height, width]`. */
export interface MaskBatch {
  readonly kind: 'mask';
  readonly width: number;
  readonly height: number;
  readonly frames: readonly Buffer[];
}

/** ComfyUI's LATENT, sized in pixels (always a multiple of 8) with what a VAE would decode it to. */
export interface Latent {
  readonly kind: 'latent';
  readonly width: number;
  readonly height: number;
  readonly batch: number;
  /** Decoded pixels per batch item, or null for an empty (all-zero) latent. */
  readonly frames: readonly Buffer[] | null;
}

/** Makes an image batch, checking every frame has the right size. */
export function imageBatch(width: number, height: number, frames: readonly Buffer[]): ImageBatch {
  for (const frame of frames) {
    if (frame.length !== width * height * 3)
      throw new Error(`frame of ${frame.length} bytes is not ${width}x${height}x3`);
  }
  return { kind: 'image', width, height, frames };
}

/** A frame of one colour. */
export function solidFrame(width: number, height: number, rgb: readonly [number, number, number]): Buffer {
  const frame = Buffer.alloc(width * height * 3);
  for (let offset = 0; offset < frame.length; offset += 3) {
    frame[offset] = rgb[0];
    frame[offset + 1] = rgb[1];
    frame[offset + 2] = rgb[2];
  }
  return frame;
}

/** Mixes two frames of the same size: `weight` of `a`, the rest of `b`. */
export function blendFrames(a: Buffer, b: Buffer, weight: number): Buffer {
  const out = Buffer.alloc(a.length);
  const other = 1 - weight;
  for (let offset = 0; offset < a.length; offset += 1) {
    out[offset] = Math.round((a[offset] ?? 0) * weight + (b[offset] ?? 0) * other);
  }
  return out;
}

/** Type guards for values flowing between nodes. */
export function isImageBatch(value: unknown): value is ImageBatch {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'image';
}

/** True for a LATENT value. */
export function isLatent(value: unknown): value is Latent {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'latent';
}
