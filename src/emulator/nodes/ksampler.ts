/**
 * KSampler, where time passes: one `stepMs` per step with a progress event (and a preview frame when previews are on),
 * like a real sampler's callback. The result is a deterministic picture of everything that seeds a real sampler.
 */
import { blendFrames, imageBatch, type Latent } from '../media/pixels.js';
import { noisyFrame, synthesizeFrame } from '../media/synthesize.js';
import { expectLatent } from './latent-nodes.js';
import type { NodeImplementation, NodeRunContext } from './types.js';
import { expectKind, type ConditioningValue, type ModelValue } from './values.js';

/** KSampler. */
export const kSampler: NodeImplementation = {
  name: 'KSampler',
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
