/**
 * What a server offers, read from its `/object_info` (parsed by the client's one reader, `comfy/object-info.ts`): the
 * choices of its model-loader combos, for autocomplete and for checking a member's choice.
 */
import { inputSpecOf, readInputSpec, type ObjectInfo } from '../comfy/object-info.js';

export {
  inputSpecOf,
  readInputSpec,
  parseObjectInfo,
  type InputSpec,
  type NodeInfo,
  type ObjectInfo,
} from '../comfy/object-info.js';

/** The choices of a combo input (`CheckpointLoaderSimple.ckpt_name`), or `[]` if the server has no such input. */
export function comboOptions(objectInfo: ObjectInfo, classType: string, input: string): string[] {
  const node = objectInfo.nodes.get(classType);
  const spec = node ? readInputSpec(inputSpecOf(node, input)?.raw) : undefined;
  return spec?.kind === 'combo' ? spec.options.map(String) : [];
}

/** What one server offers, for autocomplete and for checking a member's choice. */
export interface ModelLists {
  readonly checkpoints: readonly string[];
  readonly loras: readonly string[];
  readonly vaes: readonly string[];
  readonly upscaleModels: readonly string[];
  readonly samplers: readonly string[];
  readonly schedulers: readonly string[];
}

/** Lists the checkpoints, LoRAs, VAEs, upscale models, samplers and schedulers a server has. */
export function listModels(objectInfo: ObjectInfo): ModelLists {
  return {
    checkpoints: comboOptions(objectInfo, 'CheckpointLoaderSimple', 'ckpt_name'),
    loras: comboOptions(objectInfo, 'LoraLoader', 'lora_name'),
    vaes: comboOptions(objectInfo, 'VAELoader', 'vae_name'),
    upscaleModels: comboOptions(objectInfo, 'UpscaleModelLoader', 'model_name'),
    samplers: comboOptions(objectInfo, 'KSampler', 'sampler_name'),
    schedulers: comboOptions(objectInfo, 'KSampler', 'scheduler'),
  };
}
