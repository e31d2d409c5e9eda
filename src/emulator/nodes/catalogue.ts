/**
 * The node classes the emulator knows, and their `/object_info` entries in ComfyUI's exact shape.
 */
import {
  emptyImage,
  imageBatchNode,
  imageInvert,
  imageScale,
  imageScaleBy,
  imageUpscaleWithModel,
  loadImage,
} from './image-ops.js';
import { checkpointLoaderSimple, loraLoader, upscaleModelLoader } from './loaders.js';
import { previewAny, saveAnimatedPng, saveAnimatedWebp, saveImageWebsocket } from './outputs.js';
import { previewImage, saveImage } from './save-images.js';
import { kSampler } from './ksampler.js';
import { clipTextEncode, emptyLatentImage, vaeDecode, vaeEncode } from './latent-nodes.js';
import type { InputSpec, NodeClass, NodeEnvironment } from './types.js';
import { primitiveInt, primitiveString, testSleep } from './utility.js';

const ALL_NODES: readonly NodeClass[] = [
  checkpointLoaderSimple,
  clipTextEncode,
  emptyLatentImage,
  kSampler,
  vaeDecode,
  vaeEncode,
  saveImage,
  previewImage,
  loadImage,
  imageScale,
  imageScaleBy,
  imageInvert,
  imageBatchNode,
  emptyImage,
  loraLoader,
  upscaleModelLoader,
  imageUpscaleWithModel,
  saveAnimatedWebp,
  saveAnimatedPng,
  saveImageWebsocket,
  previewAny,
  primitiveString,
  primitiveInt,
  testSleep,
];

/** Node classes by name (NODE_CLASS_MAPPINGS). */
export const NODE_CLASSES: ReadonlyMap<string, NodeClass> = new Map(ALL_NODES.map((node) => [node.name, node]));

/** The `/object_info/{class}` entry of one node class. */
export function nodeInfo(node: NodeClass, environment: NodeEnvironment): Record<string, unknown> {
  const types = node.inputTypes(environment);
  const input: Record<string, unknown> = { required: specsToJson(types.required) };
  if (types.optional) input['optional'] = specsToJson(types.optional);
  if (types.hidden) input['hidden'] = { ...types.hidden };
  const inputOrder: Record<string, string[]> = { required: Object.keys(types.required) };
  if (types.optional) inputOrder['optional'] = Object.keys(types.optional);
  if (types.hidden) inputOrder['hidden'] = Object.keys(types.hidden);
  const info: Record<string, unknown> = {
    input,
    input_order: inputOrder,
    output: [...node.returnTypes],
    output_is_list: node.returnTypes.map(() => false),
    output_name: [...(node.returnNames ?? node.returnTypes)],
    name: node.name,
    display_name: node.displayName,
    description: node.description,
    python_module: node.pythonModule,
    category: node.category,
    output_node: node.outputNode,
  };
  if (node.outputTooltips) info['output_tooltips'] = [...node.outputTooltips];
  if (node.deprecated) info['deprecated'] = true;
  if (node.experimental) info['experimental'] = true;
  return info;
}

function specsToJson(specs: Readonly<Record<string, InputSpec>>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [name, [type, options]] of Object.entries(specs)) {
    const jsonType = typeof type === 'string' ? type : [...type];
    out[name] = options === undefined ? [jsonType] : [jsonType, { ...options }];
  }
  return out;
}
