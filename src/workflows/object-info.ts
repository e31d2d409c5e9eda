/**
 * A ComfyUI server's `/object_info`: every node class it has, with its inputs (types, limits, combo choices) and
 * outputs. Read leniently: a node entry we cannot understand is dropped, not fatal, since custom nodes vary.
 */
import { z } from 'zod';

const nodeInfoSchema = z.looseObject({
  input: z
    .looseObject({
      required: z.record(z.string(), z.unknown()).optional(),
      optional: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  output: z.array(z.unknown()).optional(),
  output_node: z.boolean().optional(),
  display_name: z.string().optional(),
});

export type NodeInfo = z.infer<typeof nodeInfoSchema>;

/** Node class name -> what the server says about it. */
export type ObjectInfo = Readonly<Record<string, NodeInfo>>;

/** One input as the server describes it. */
export type InputSpec =
  | { readonly kind: 'combo'; readonly options: readonly (string | number)[] }
  | { readonly kind: 'number'; readonly type: 'INT' | 'FLOAT'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'primitive'; readonly type: string }
  | { readonly kind: 'link'; readonly type: string };

/** Parses a GET /object_info body, keeping every node entry that has the expected shape. */
export function parseObjectInfo(body: unknown): ObjectInfo {
  const parsed = z.record(z.string(), z.unknown()).safeParse(body);
  if (!parsed.success) return {};
  const info: Record<string, NodeInfo> = {};
  for (const [classType, entry] of Object.entries(parsed.data)) {
    const node = nodeInfoSchema.safeParse(entry);
    if (node.success) info[classType] = node.data;
  }
  return info;
}

/** Reads `["INT", {"min": 1}]`, `[["a", "b"], {}]` or newer ComfyUI's `["COMBO", {"options": ["a", "b"]}]`. */
export function readInputSpec(raw: unknown): InputSpec | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const [type, options] = raw as [unknown, unknown];
  const config = typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
  if (Array.isArray(type)) return { kind: 'combo', options: choicesOf(type) };
  if (type === 'COMBO') return { kind: 'combo', options: choicesOf(config['options']) };
  if (type === 'INT' || type === 'FLOAT') {
    const min = typeof config['min'] === 'number' ? config['min'] : undefined;
    const max = typeof config['max'] === 'number' ? config['max'] : undefined;
    return { kind: 'number', type, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
  }
  if (type === 'STRING' || type === 'BOOLEAN') return { kind: 'primitive', type };
  return typeof type === 'string' ? { kind: 'link', type } : undefined;
}

/** The raw spec of one input of one node class, and whether the class requires it. */
export function inputSpecOf(node: NodeInfo, input: string): { raw: unknown; required: boolean } | undefined {
  const required = node.input?.required ?? {};
  if (input in required) return { raw: required[input], required: true };
  const optional = node.input?.optional ?? {};
  return input in optional ? { raw: optional[input], required: false } : undefined;
}

/** The choices of a combo input (`CheckpointLoaderSimple.ckpt_name`), or `[]` if the server has no such input. */
export function comboOptions(objectInfo: ObjectInfo, classType: string, input: string): string[] {
  const node = objectInfo[classType];
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

function choicesOf(value: unknown): (string | number)[] {
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is string | number => typeof item === 'string' || typeof item === 'number');
}
