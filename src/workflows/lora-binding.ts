/**
 * Where a member's LoRAs go. Either the graph already chains LoRA loaders (`slots`: the member's LoRAs fill them in
 * order and the loaders left over are taken out of the graph), or the manifest says which model (and CLIP) output to
 * insert new loaders after (`insert`: a chain of LoraLoader, or LoraLoaderModelOnly when there is no CLIP, is put
 * between that output and everything that read it). With no LoRA named, the graph runs as the operator wrote it.
 */
import { sameFile } from './file-spellings.js';
import { type ApiGraph, describeNode, isLink, type Link, sortedIds } from './graph.js';
import type { Manifest } from './manifest.js';
import { resolveNodeRef, resolveTargetRef } from './resolve-refs.js';
import { LORA_WEIGHT_RANGE, MAX_LORAS, type LoraChoice } from './settings.js';

/** Node classes that apply one LoRA, and whether they patch the CLIP too. */
export const LORA_LOADERS: Readonly<Record<string, { readonly clip: boolean }>> = {
  LoraLoader: { clip: true },
  LoraLoaderModelOnly: { clip: false },
};

/** The weights a workflow takes and the one used when a member gives none. */
export interface WeightRange {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** How a workflow takes LoRAs. */
export type LoraBinding =
  | { readonly mode: 'slots'; readonly slots: readonly string[]; readonly weight: WeightRange }
  | {
      readonly mode: 'insert';
      /** The output the model flows out of (a checkpoint or UNet loader's MODEL). */
      readonly model: Link;
      /** The CLIP output, when the LoRAs patch the text encoder too. */
      readonly clip?: Link;
      readonly max: number;
      readonly weight: WeightRange;
    };

/** The most LoRAs a binding takes. */
export function loraCapacity(binding: LoraBinding): number {
  return binding.mode === 'slots' ? binding.slots.length : binding.max;
}

/**
 * The LoRAs the graph itself runs in the binding's slots (when a member names none), with the model strengths written
 * there: what a refine adds to, and the files a server needs for the workflow as it is.
 */
export function graphLoras(graph: ApiGraph, binding: LoraBinding | undefined): LoraChoice[] {
  if (binding?.mode !== 'slots') return [];
  return binding.slots.flatMap((nodeId) => {
    const { lora_name: name, strength_model: weight } = graph[nodeId]?.inputs ?? {};
    if (typeof name !== 'string') return [];
    return [typeof weight === 'number' ? { name, weight } : { name }];
  });
}

/** The binding a manifest and graph describe, or the reasons they do not fit; undefined when there is none. */
export function buildLoraBinding(
  graph: ApiGraph,
  manifest: Manifest | undefined,
  manifestFile: string,
): { binding?: LoraBinding; reasons: string[]; note?: string } {
  const entry = manifest?.settings?.lora;
  if (entry === false) return { reasons: [] };
  const where = `${manifestFile}: settings.lora`;
  const weight = {
    min: entry?.weight?.min ?? LORA_WEIGHT_RANGE.min,
    max: entry?.weight?.max ?? LORA_WEIGHT_RANGE.max,
    default: entry?.weight?.default ?? 1,
  };
  const reasons: string[] = [];
  if (weight.min > weight.max) reasons.push(`${where}.weight: min ${weight.min} is above max ${weight.max}.`);
  if (weight.default < weight.min || weight.default > weight.max) {
    reasons.push(`${where}.weight: the default ${weight.default} is outside ${weight.min} to ${weight.max}.`);
  }
  if (entry?.insert) return insertBinding(graph, entry.insert, weight, where, reasons);
  if (entry?.to !== undefined)
    return slotBinding(graph, typeof entry.to === 'string' ? [entry.to] : entry.to, weight, where, reasons);
  const chain = inferChain(graph);
  if (typeof chain === 'string')
    return entry ? { reasons: [...reasons, `${where}: ${chain}`] } : { reasons, note: chain };
  if (chain.length > 0) return { binding: { mode: 'slots', slots: chain, weight }, reasons };
  if (entry) {
    reasons.push(
      `${where} has no "to" and the graph has no LoRA loader; list loaders in "to", or say where to add them with "insert": { "model": ["<node>", 0], "clip": ["<node>", 1] }.`,
    );
  }
  return { reasons };
}

function insertBinding(
  graph: ApiGraph,
  insert: NonNullable<Extract<NonNullable<NonNullable<Manifest['settings']>['lora']>, object>['insert']>,
  weight: WeightRange,
  where: string,
  reasons: string[],
): { binding?: LoraBinding; reasons: string[] } {
  const output = (ref: readonly [string, number], name: string): Link | undefined => {
    const node = resolveNodeRef(graph, ref[0]);
    if (!node.ok) reasons.push(`${where}.insert.${name} ${JSON.stringify(ref)}: ${node.message}.`);
    return node.ok ? [node.value, ref[1]] : undefined;
  };
  const model = output(insert.model, 'model');
  const clip = insert.clip === undefined ? undefined : output(insert.clip, 'clip');
  for (const [link, name] of [
    [model, 'model'],
    [clip, 'clip'],
  ] as const) {
    if (link && !graphReads(graph, link)) {
      reasons.push(
        `${where}.insert.${name}: nothing in the graph reads output ${link[1]} of ${describeNode(graph, link[0])}.`,
      );
    }
  }
  if (!model || reasons.length > 0) return { reasons };
  const max = insert.max ?? 3;
  return { binding: { mode: 'insert', model, ...(clip ? { clip } : {}), max, weight }, reasons };
}

function slotBinding(
  graph: ApiGraph,
  refs: readonly string[],
  weight: WeightRange,
  where: string,
  reasons: string[],
): { binding?: LoraBinding; reasons: string[] } {
  const slots: string[] = [];
  for (const ref of refs) {
    const target = resolveTargetRef(graph, ref);
    if (!target.ok) reasons.push(`${where}.to "${ref}": ${target.message}.`);
    else if (!(graph[target.value.nodeId]!.class_type in LORA_LOADERS) || target.value.input !== 'lora_name') {
      reasons.push(`${where}.to "${ref}" must be the lora_name of a LoraLoader or LoraLoaderModelOnly.`);
    } else slots.push(target.value.nodeId);
  }
  if (slots.length > MAX_LORAS) reasons.push(`${where}.to names ${slots.length} loaders; ${MAX_LORAS} at most.`);
  return reasons.length > 0 ? { reasons } : { binding: { mode: 'slots', slots, weight }, reasons };
}

/**
 * The graph's LoRA loaders as one chain, from the model loader outwards; a sentence for the operator when they do
 * not form one (two branches with their own LoRAs: which gets the member's?).
 */
function inferChain(graph: ApiGraph): string[] | string {
  const loaders = sortedIds(graph).filter(
    (id) => graph[id]!.class_type in LORA_LOADERS && typeof graph[id]!.inputs['lora_name'] === 'string',
  );
  if (loaders.length === 0) return [];
  const upstreamOf = (id: string): string | undefined => {
    const model = graph[id]!.inputs['model'];
    return isLink(model) && loaders.includes(model[0]) ? model[0] : undefined;
  };
  const heads = loaders.filter((id) => upstreamOf(id) === undefined);
  const chain: string[] = [];
  for (let current = heads.length === 1 ? heads[0] : undefined; current !== undefined;) {
    chain.push(current);
    const next = loaders.filter((id) => upstreamOf(id) === current);
    current = next.length === 1 ? next[0] : undefined;
  }
  if (chain.length === loaders.length) return chain;
  return `The LoRA loaders ${loaders.join(', ')} do not form one chain, so members cannot choose LoRAs; list the ones to fill in a manifest, e.g. "lora": ${JSON.stringify(loaders.map((id) => `${id}.lora_name`))}.`;
}

function graphReads(graph: ApiGraph, link: Link): boolean {
  return Object.values(graph).some((node) =>
    Object.values(node.inputs).some((value) => isLink(value) && value[0] === link[0] && value[1] === link[1]),
  );
}

/** Writes the member's LoRAs into a copy of the graph that the caller owns (`graph` is changed in place). */
export function applyLoras(graph: ApiGraph, binding: LoraBinding, loras: readonly Required<LoraChoice>[]): void {
  if (binding.mode === 'slots') fillSlots(graph, binding.slots, loras);
  else insertChain(graph, binding, loras);
}

function fillSlots(graph: ApiGraph, slots: readonly string[], loras: readonly Required<LoraChoice>[]): void {
  const own = slots.map((nodeId) => ({ ...graph[nodeId]!.inputs }));
  slots.forEach((nodeId, index) => {
    const lora = loras[index];
    const node = graph[nodeId]!;
    if (lora === undefined) return bypass(graph, nodeId);
    node.inputs['lora_name'] = lora.name;
    node.inputs['strength_model'] = lora.weight;
    if (LORA_LOADERS[node.class_type]?.clip) node.inputs['strength_clip'] = clipStrength(own, lora);
  });
}

/**
 * The CLIP strength for a LoRA: the graph's own when the LoRA is one the graph runs at the model strength the graph
 * gives it (the member changed nothing of it, e.g. a refine that only added another LoRA); else the member's weight.
 */
function clipStrength(own: readonly Readonly<Record<string, unknown>>[], lora: Required<LoraChoice>): unknown {
  const same = own.find(
    (inputs) => typeof inputs['lora_name'] === 'string' && sameFile(inputs['lora_name'], lora.name),
  );
  const unchanged = same?.['strength_model'] === lora.weight && typeof same['strength_clip'] === 'number';
  return unchanged ? same['strength_clip'] : lora.weight;
}

/** Takes a loader out: whatever read its MODEL (and CLIP) output reads what it read instead. */
function bypass(graph: ApiGraph, nodeId: string): void {
  const node = graph[nodeId]!;
  const replacements: Array<unknown> = [node.inputs['model'], node.inputs['clip']];
  delete graph[nodeId];
  for (const other of Object.values(graph)) {
    for (const [input, value] of Object.entries(other.inputs)) {
      if (isLink(value) && value[0] === nodeId && replacements[value[1]] !== undefined) {
        other.inputs[input] = replacements[value[1]];
      }
    }
  }
}

function insertChain(
  graph: ApiGraph,
  binding: Extract<LoraBinding, { mode: 'insert' }>,
  loras: readonly Required<LoraChoice>[],
): void {
  if (loras.length === 0) return;
  const readers = (link: Link | undefined) =>
    link === undefined
      ? []
      : Object.values(graph).flatMap((node) =>
          Object.entries(node.inputs)
            .filter(([, value]) => isLink(value) && value[0] === link[0] && value[1] === link[1])
            .map(([input]) => ({ node, input })),
        );
  const modelReaders = readers(binding.model);
  const clipReaders = readers(binding.clip);
  let model: Link = binding.model;
  let clip: Link | undefined = binding.clip;
  let nextId = freeId(graph);
  loras.forEach((lora, index) => {
    const id = String(nextId++);
    const title = { title: `LoRA ${index + 1} (comfycord)` };
    graph[id] = clip
      ? {
          class_type: 'LoraLoader',
          inputs: { model, clip, lora_name: lora.name, strength_model: lora.weight, strength_clip: lora.weight },
          _meta: title,
        }
      : {
          class_type: 'LoraLoaderModelOnly',
          inputs: { model, lora_name: lora.name, strength_model: lora.weight },
          _meta: title,
        };
    model = [id, 0];
    if (clip) clip = [id, 1];
  });
  for (const { node, input } of modelReaders) node.inputs[input] = [...model];
  for (const { node, input } of clipReaders) if (clip) node.inputs[input] = [...clip];
}

/** A numeric node id above every numeric one in the graph. */
function freeId(graph: ApiGraph): number {
  const numbers = Object.keys(graph)
    .map(Number)
    .filter((value) => Number.isSafeInteger(value));
  return Math.max(0, ...numbers) + 1;
}
