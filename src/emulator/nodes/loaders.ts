/**
 * Model loaders. Nothing is loaded: the values name what was "loaded" so downstream pictures depend on it.
 */
import type { NodeClass } from './types.js';
import { expectKind, type ClipValue, type ModelValue } from './values.js';

/** CheckpointLoaderSimple ("Load Checkpoint"). */
export const checkpointLoaderSimple: NodeClass = {
  name: 'CheckpointLoaderSimple',
  displayName: 'Load Checkpoint',
  description: 'Loads a diffusion model checkpoint, diffusion models are used to denoise latents.',
  category: 'loaders',
  pythonModule: 'nodes',
  outputNode: false,
  returnTypes: ['MODEL', 'CLIP', 'VAE'],
  outputTooltips: [
    'The model used for denoising latents.',
    'The CLIP model used for encoding text prompts.',
    'The VAE model used for encoding and decoding images to and from latent space.',
  ],
  inputTypes: (environment) => ({
    required: {
      ckpt_name: [[...environment.checkpoints], { tooltip: 'The name of the checkpoint (model) to load.' }],
    },
  }),
  run: async (inputs) => {
    const name = String(inputs['ckpt_name']);
    return {
      outputs: [
        { kind: 'model', identity: name },
        { kind: 'clip', identity: name },
        { kind: 'vae', identity: name },
      ],
    };
  },
};

/** LoraLoader ("Load LoRA"). */
export const loraLoader: NodeClass = {
  name: 'LoraLoader',
  displayName: 'Load LoRA',
  description:
    'LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be chained together.',
  category: 'loaders',
  pythonModule: 'nodes',
  outputNode: false,
  returnTypes: ['MODEL', 'CLIP'],
  outputTooltips: ['The modified diffusion model.', 'The modified CLIP model.'],
  inputTypes: (environment) => ({
    required: {
      model: ['MODEL', { tooltip: 'The diffusion model the LoRA will be applied to.' }],
      clip: ['CLIP', { tooltip: 'The CLIP model the LoRA will be applied to.' }],
      lora_name: [[...environment.loras], { tooltip: 'The name of the LoRA.' }],
      strength_model: [
        'FLOAT',
        {
          default: 1.0,
          min: -100.0,
          max: 100.0,
          step: 0.01,
          tooltip: 'How strongly to modify the diffusion model. This value can be negative.',
        },
      ],
      strength_clip: [
        'FLOAT',
        {
          default: 1.0,
          min: -100.0,
          max: 100.0,
          step: 0.01,
          tooltip: 'How strongly to modify the CLIP model. This value can be negative.',
        },
      ],
    },
  }),
  run: async (inputs) => {
    const model = expectKind<ModelValue>(inputs['model'], 'model', 'model');
    const clip = expectKind<ClipValue>(inputs['clip'], 'clip', 'clip');
    const lora = String(inputs['lora_name']);
    const patched = (identity: string, strength: unknown): string =>
      Number(strength) === 0 ? identity : `${identity}+${lora}@${String(strength)}`;
    return {
      outputs: [
        { kind: 'model', identity: patched(model.identity, inputs['strength_model']) },
        { kind: 'clip', identity: patched(clip.identity, inputs['strength_clip']) },
      ],
    };
  },
};

/** UpscaleModelLoader ("Load Upscale Model"). */
export const upscaleModelLoader: NodeClass = {
  name: 'UpscaleModelLoader',
  displayName: 'Load Upscale Model',
  description: '',
  category: 'loaders',
  pythonModule: 'comfy_extras.nodes_upscale_model',
  outputNode: false,
  returnTypes: ['UPSCALE_MODEL'],
  inputTypes: (environment) => ({ required: { model_name: [[...environment.upscaleModels]] } }),
  run: async (inputs) => {
    const name = String(inputs['model_name']);
    const factor = /x(\d)/i.exec(name)?.[1];
    return { outputs: [{ kind: 'upscale_model', name, scale: factor ? Number(factor) : 4 }] };
  },
};
