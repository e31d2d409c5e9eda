/**
 * Model loaders. Nothing is loaded: the values name what was "loaded" so downstream pictures depend on it.
 */
import type { NodeImplementation } from './types.js';
import { expectKind, type ClipValue, type ModelValue } from './values.js';

/** CheckpointLoaderSimple ("Load Checkpoint"). */
export const checkpointLoaderSimple: NodeImplementation = {
  name: 'CheckpointLoaderSimple',
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
export const loraLoader: NodeImplementation = {
  name: 'LoraLoader',
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

/** LoraLoaderModelOnly: a LoRA applied to the model only (Flux and UNet workflows whose CLIP comes from elsewhere). */
export const loraLoaderModelOnly: NodeImplementation = {
  name: 'LoraLoaderModelOnly',
  run: async (inputs) => {
    const model = expectKind<ModelValue>(inputs['model'], 'model', 'model');
    const strength = inputs['strength_model'];
    const identity =
      Number(strength) === 0 ? model.identity : `${model.identity}+${String(inputs['lora_name'])}@${String(strength)}`;
    return { outputs: [{ kind: 'model', identity }] };
  },
};

/** UpscaleModelLoader ("Load Upscale Model"). */
export const upscaleModelLoader: NodeImplementation = {
  name: 'UpscaleModelLoader',
  run: async (inputs) => {
    const name = String(inputs['model_name']);
    const factor = /x(\d)/i.exec(name)?.[1];
    return { outputs: [{ kind: 'upscale_model', name, scale: factor ? Number(factor) : 4 }] };
  },
};
