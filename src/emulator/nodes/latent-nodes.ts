/**
 * Text encoding, latents and the VAE: the nodes around the sampler.
 */
import { imageBatch, isImageBatch, isLatent, solidFrame, type Latent } from '../media/pixels.js';
import type { NodeImplementation } from './types.js';
import { expectKind, type ClipValue, type ConditioningValue } from './values.js';

/** What an all-zero SD latent decodes to: a flat brownish grey. */
const EMPTY_LATENT_RGB = [124, 116, 104] as const;

/** CLIPTextEncode ("CLIP Text Encode (Prompt)"). */
export const clipTextEncode: NodeImplementation = {
  name: 'CLIPTextEncode',
  run: async (inputs) => {
    const clip = expectKind<ClipValue>(inputs['clip'], 'clip', 'clip');
    const conditioning: ConditioningValue = { kind: 'conditioning', text: String(inputs['text']), clip: clip.identity };
    return { outputs: [conditioning] };
  },
};

/** EmptyLatentImage ("Empty Latent Image"). */
export const emptyLatentImage: NodeImplementation = {
  name: 'EmptyLatentImage',
  run: async (inputs) => {
    const latent: Latent = {
      kind: 'latent',
      width: Math.floor(Number(inputs['width']) / 8) * 8,
      height: Math.floor(Number(inputs['height']) / 8) * 8,
      batch: Number(inputs['batch_size']),
      frames: null,
    };
    return { outputs: [latent] };
  },
};

/** VAEDecode ("VAE Decode"). */
export const vaeDecode: NodeImplementation = {
  name: 'VAEDecode',
  run: async (inputs) => {
    expectKind(inputs['vae'], 'vae', 'vae');
    const latent = expectLatent(inputs['samples']);
    const frames =
      latent.frames ??
      Array.from({ length: latent.batch }, () => solidFrame(latent.width, latent.height, EMPTY_LATENT_RGB));
    return { outputs: [imageBatch(latent.width, latent.height, frames)] };
  },
};

/** VAEEncode ("VAE Encode"): crops to a multiple of 8 around the centre, as ComfyUI does. */
export const vaeEncode: NodeImplementation = {
  name: 'VAEEncode',
  run: async (inputs) => {
    expectKind(inputs['vae'], 'vae', 'vae');
    const pixels = inputs['pixels'];
    if (!isImageBatch(pixels)) throw new Error("'pixels' is not an image");
    const width = Math.floor(pixels.width / 8) * 8;
    const height = Math.floor(pixels.height / 8) * 8;
    if (width === 0 || height === 0) throw new Error('Image is smaller than 8 pixels');
    const frames = pixels.frames.map((frame) => cropCentre(frame, pixels.width, pixels.height, width, height));
    const latent: Latent = { kind: 'latent', width, height, batch: frames.length, frames };
    return { outputs: [latent] };
  },
};

function cropCentre(frame: Buffer, width: number, height: number, toWidth: number, toHeight: number): Buffer {
  if (width === toWidth && height === toHeight) return frame;
  const [left, top] = [Math.floor((width % 8) / 2), Math.floor((height % 8) / 2)];
  const out = Buffer.alloc(toWidth * toHeight * 3);
  for (let row = 0; row < toHeight; row += 1) {
    const start = ((top + row) * width + left) * 3;
    frame.copy(out, row * toWidth * 3, start, start + toWidth * 3);
  }
  return out;
}

/** Reads a LATENT input. */
export function expectLatent(value: unknown): Latent {
  if (!isLatent(value)) throw new Error('expected a LATENT');
  return value;
}
