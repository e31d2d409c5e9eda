/**
 * Text encoding, latents and the VAE: the nodes around the sampler.
 */
import { imageBatch, isImageBatch, isLatent, solidFrame, type Latent } from '../media/pixels.js';
import type { NodeClass } from './types.js';
import { expectKind, type ClipValue, type ConditioningValue } from './values.js';

const MAX_RESOLUTION = 16384;
/** What an all-zero SD latent decodes to: a flat brownish grey. */
const EMPTY_LATENT_RGB = [124, 116, 104] as const;

/** CLIPTextEncode ("CLIP Text Encode (Prompt)"). */
export const clipTextEncode: NodeClass = {
  name: 'CLIPTextEncode',
  displayName: 'CLIP Text Encode (Prompt)',
  description:
    'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
  category: 'conditioning',
  pythonModule: 'nodes',
  outputNode: false,
  returnTypes: ['CONDITIONING'],
  outputTooltips: ['A conditioning containing the embedded text used to guide the diffusion model.'],
  inputTypes: () => ({
    required: {
      text: ['STRING', { multiline: true, dynamicPrompts: true, tooltip: 'The text to be encoded.' }],
      clip: ['CLIP', { tooltip: 'The CLIP model used for encoding the text.' }],
    },
  }),
  run: async (inputs) => {
    const clip = expectKind<ClipValue>(inputs['clip'], 'clip', 'clip');
    const conditioning: ConditioningValue = { kind: 'conditioning', text: String(inputs['text']), clip: clip.identity };
    return { outputs: [conditioning] };
  },
};

/** EmptyLatentImage ("Empty Latent Image"). */
export const emptyLatentImage: NodeClass = {
  name: 'EmptyLatentImage',
  displayName: 'Empty Latent Image',
  description: 'Create a new batch of empty latent images to be denoised via sampling.',
  category: 'latent',
  pythonModule: 'nodes',
  outputNode: false,
  returnTypes: ['LATENT'],
  outputTooltips: ['The empty latent image.'],
  inputTypes: () => ({
    required: {
      width: [
        'INT',
        { default: 512, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The width of the latent images in pixels.' },
      ],
      height: [
        'INT',
        { default: 512, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The height of the latent images in pixels.' },
      ],
      batch_size: ['INT', { default: 1, min: 1, max: 4096, tooltip: 'The number of latent images in the batch.' }],
    },
  }),
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
export const vaeDecode: NodeClass = {
  name: 'VAEDecode',
  displayName: 'VAE Decode',
  description: 'Decodes latent images back into pixel space images.',
  category: 'latent',
  pythonModule: 'nodes',
  outputNode: false,
  returnTypes: ['IMAGE'],
  outputTooltips: ['The decoded image.'],
  inputTypes: () => ({
    required: {
      samples: ['LATENT', { tooltip: 'The latent to be decoded.' }],
      vae: ['VAE', { tooltip: 'The VAE model used for decoding the latent.' }],
    },
  }),
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
export const vaeEncode: NodeClass = {
  name: 'VAEEncode',
  displayName: 'VAE Encode',
  description: '',
  category: 'latent',
  pythonModule: 'nodes',
  outputNode: false,
  returnTypes: ['LATENT'],
  inputTypes: () => ({ required: { pixels: ['IMAGE'], vae: ['VAE'] } }),
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
