/**
 * Text encoding, latents, the sampler and the VAE. KSampler is where time passes: one `stepMs` per step with a
 * progress event (and a preview frame when previews are on), like a real sampler's callback.
 */
import { blendFrames, imageBatch, isImageBatch, isLatent, solidFrame, type Latent } from '../media/pixels.js';
import { noisyFrame, synthesizeFrame } from '../media/synthesize.js';
import { SAMPLER_NAMES, SCHEDULER_NAMES } from './sampler-names.js';
import type { NodeClass, NodeRunContext } from './types.js';
import { expectKind, type ClipValue, type ConditioningValue, type ModelValue } from './values.js';

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

/** KSampler. */
export const kSampler: NodeClass = {
  name: 'KSampler',
  displayName: 'KSampler',
  description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
  category: 'sampling',
  pythonModule: 'nodes',
  outputNode: false,
  returnTypes: ['LATENT'],
  outputTooltips: ['The denoised latent.'],
  inputTypes: () => ({ required: KSAMPLER_INPUTS }),
  run: async (inputs, context) => {
    const latent = expectLatent(inputs['latent_image']);
    const finals = sampleFrames(inputs, latent);
    const steps = Number(inputs['steps']);
    for (let step = 1; step <= steps; step += 1) {
      await context.samplerStep();
      await reportStep(context, finals[0], latent, step, steps, Number(inputs['seed']));
    }
    const out: Latent = { ...latent, frames: finals };
    return { outputs: [out] };
  },
};

const KSAMPLER_INPUTS = {
  model: ['MODEL', { tooltip: 'The model used for denoising the input latent.' }],
  seed: [
    'INT',
    {
      default: 0,
      min: 0,
      // 0xffffffffffffffff in ComfyUI; a JS number cannot hold it exactly.
      max: 2 ** 64,
      control_after_generate: true,
      tooltip: 'The random seed used for creating the noise.',
    },
  ],
  steps: ['INT', { default: 20, min: 1, max: 10000, tooltip: 'The number of steps used in the denoising process.' }],
  cfg: [
    'FLOAT',
    {
      default: 8.0,
      min: 0.0,
      max: 100.0,
      step: 0.1,
      round: 0.01,
      tooltip:
        'The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality.',
    },
  ],
  sampler_name: [
    SAMPLER_NAMES,
    {
      tooltip:
        'The algorithm used when sampling, this can affect the quality, speed, and style of the generated output.',
    },
  ],
  scheduler: [SCHEDULER_NAMES, { tooltip: 'The scheduler controls how noise is gradually removed to form the image.' }],
  positive: [
    'CONDITIONING',
    { tooltip: 'The conditioning describing the attributes you want to include in the image.' },
  ],
  negative: [
    'CONDITIONING',
    { tooltip: 'The conditioning describing the attributes you want to exclude from the image.' },
  ],
  latent_image: ['LATENT', { tooltip: 'The latent image to denoise.' }],
  denoise: [
    'FLOAT',
    {
      default: 1.0,
      min: 0.0,
      max: 1.0,
      step: 0.01,
      tooltip:
        'The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling.',
    },
  ],
} as const;

function sampleFrames(inputs: Readonly<Record<string, unknown>>, latent: Latent): Buffer[] {
  const model = expectKind<ModelValue>(inputs['model'], 'model', 'model');
  const positive = expectKind<ConditioningValue>(inputs['positive'], 'conditioning', 'positive');
  const negative = expectKind<ConditioningValue>(inputs['negative'], 'conditioning', 'negative');
  const denoise = Number(inputs['denoise']);
  const settings = [model.identity, inputs['steps'], inputs['cfg'], inputs['sampler_name'], inputs['scheduler']];
  return Array.from({ length: latent.batch }, (_, index) => {
    const layout = JSON.stringify([...settings, inputs['seed'], index, negative.text, positive.clip, denoise]);
    const generated = synthesizeFrame({ palette: positive.text, layout }, latent.width, latent.height);
    const source = latent.frames?.[index] ?? latent.frames?.[0];
    return source && denoise < 1 ? blendFrames(generated, source, denoise) : generated;
  });
}

async function reportStep(
  context: NodeRunContext,
  final: Buffer | undefined,
  latent: Latent,
  step: number,
  steps: number,
  seed: number,
): Promise<void> {
  if (!context.previewsEnabled || final === undefined) {
    await context.progress(step, steps);
    return;
  }
  const frame = noisyFrame(final, step / steps, (seed + step) >>> 0);
  const image = imageBatch(latent.width, latent.height, [frame]);
  await context.progress(step, steps, { format: 'JPEG', image, maxSize: 512 });
}

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

function expectLatent(value: unknown): Latent {
  if (!isLatent(value)) throw new Error('expected a LATENT');
  return value;
}
