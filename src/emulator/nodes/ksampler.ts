/**
 * KSampler, where time passes: one `stepMs` per step with a progress event (and a preview frame when previews are on),
 * like a real sampler's callback. The result is a deterministic picture of everything that seeds a real sampler.
 */
import { blendFrames, imageBatch, type Latent } from '../media/pixels.js';
import { noisyFrame, synthesizeFrame } from '../media/synthesize.js';
import { expectLatent } from './latent-nodes.js';
import { SAMPLER_NAMES, SCHEDULER_NAMES } from './sampler-names.js';
import type { NodeClass, NodeRunContext } from './types.js';
import { expectKind, type ConditioningValue, type ModelValue } from './values.js';

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
