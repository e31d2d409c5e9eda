/**
 * Reads a graph with no manifest: which inputs take the prompt, the seed, the size..., which nodes are the outputs
 * and what kind of workflow it is. Only what is certain is bound; every ambiguity becomes a note that says what a
 * manifest should pin.
 */
import { type ApiGraph, describeNode, formatTarget, type InputTarget, isLink, nodesOfClass } from './graph.js';
import type { WorkflowKind } from './manifest.js';
import {
  BINDABLE_SETTINGS,
  type BindableSetting,
  EMPTY_LATENT_CLASSES,
  SAMPLER_CLASSES,
  SCALAR_INPUTS,
  UPSCALE_CLASSES,
  VAE_ENCODE_CLASSES,
} from './node-classes.js';
import { defaultOutputs, findOutputNodes } from './output-nodes.js';
import { textInputsOf, traceSide, type PromptSide } from './trace-prompts.js';

/** What the graph alone says. */
export interface InferredBindings {
  readonly kind: WorkflowKind;
  readonly bindings: Partial<Record<BindableSetting, readonly InputTarget[]>>;
  /** Output node ids whose results are posted. */
  readonly outputs: readonly string[];
  /** What could not be decided and what a manifest should pin. */
  readonly notes: readonly InferenceNote[];
}

/** One sentence for the operator, and the setting (or the outputs) it is about, so a manifest pin can silence it. */
export interface InferenceNote {
  readonly about: BindableSetting | 'outputs';
  readonly message: string;
}

/** Infers kind, bindings and outputs from an API-format graph. */
export function inferBindings(graph: ApiGraph): InferredBindings {
  const kind = inferKind(graph);
  const notes: InferenceNote[] = [];
  const bindings: Partial<Record<BindableSetting, readonly InputTarget[]>> = { ...inferPrompts(graph, notes) };
  for (const setting of BINDABLE_SETTINGS) {
    if (setting === 'prompt' || setting === 'negative' || setting === 'lora') continue;
    const targets = scalarCandidates(graph, setting, kind);
    if (targets.length === 1) bindings[setting] = targets;
    if (targets.length > 1) notes.push({ about: setting, message: ambiguityNote(graph, setting, targets) });
  }
  return { kind, bindings, outputs: inferOutputs(graph, notes), notes };
}

/** The kind of workflow, from the nodes it has. */
export function inferKind(graph: ApiGraph): WorkflowKind {
  const has = (classes: readonly string[]): boolean => nodesOfClass(graph, classes).length > 0;
  const loadsImage = has(['LoadImage']);
  if (has(SAMPLER_CLASSES)) {
    if (loadsImage && has(VAE_ENCODE_CLASSES)) return 'image-to-image';
    return has(EMPTY_LATENT_CLASSES) ? 'text-to-image' : 'other';
  }
  return loadsImage && has(UPSCALE_CLASSES) ? 'upscale' : 'other';
}

function scalarCandidates(graph: ApiGraph, setting: BindableSetting, kind: WorkflowKind): InputTarget[] {
  // Denoising less than fully only means something when the sampler starts from an image.
  if (setting === 'denoise' && kind !== 'image-to-image') return [];
  let nodeIds = nodesOfClass(graph, Object.keys(SCALAR_INPUTS));
  if (setting === 'count') {
    // Image-to-image makes more than one image by repeating the encoded latent, not with an empty latent's batch.
    const repeaters = nodesOfClass(graph, ['RepeatLatentBatch']);
    nodeIds = repeaters.length > 0 ? repeaters : kind === 'image-to-image' ? [] : nodeIds;
  }
  const targets = new Map<string, InputTarget>();
  for (const nodeId of nodeIds) {
    const input = SCALAR_INPUTS[graph[nodeId]!.class_type]?.[setting];
    const target = input === undefined ? undefined : literalTarget(graph, nodeId, input);
    if (target) targets.set(formatTarget(target), target);
  }
  return [...targets.values()];
}

/**
 * The literal input behind `nodeId.input`: the input itself, or, when it is linked from a node holding a single
 * literal (a primitive or seed node), that node's input. Two samplers sharing one seed node share one target.
 */
function literalTarget(graph: ApiGraph, nodeId: string, input: string): InputTarget | undefined {
  const value = graph[nodeId]!.inputs[input];
  if (value === undefined) return undefined;
  if (!isLink(value)) return { nodeId, input };
  const entries = Object.entries(graph[value[0]]?.inputs ?? {});
  const [only] = entries;
  return entries.length === 1 && only && !isLink(only[1]) ? { nodeId: value[0], input: only[0] } : undefined;
}

function inferPrompts(graph: ApiGraph, notes: InferenceNote[]): Partial<Record<'prompt' | 'negative', InputTarget[]>> {
  const positive = traceSide(graph, 'positive');
  const negative = traceSide(graph, 'negative');
  const shared = negative.encoders.filter((id) => positive.encoders.includes(id));
  if (shared.length > 0) {
    const message = `${describeList(graph, shared)} feeds both the positive and the negative side; it is taken as the prompt.`;
    notes.push({ about: 'negative', message });
  }
  const result: Partial<Record<'prompt' | 'negative', InputTarget[]>> = {};
  const sides: Array<[PromptSide, 'prompt' | 'negative', readonly string[]]> = [
    ['positive', 'prompt', positive.encoders],
    ['negative', 'negative', negative.encoders.filter((id) => !shared.includes(id))],
  ];
  for (const [side, setting, encoders] of sides) {
    const unknown = side === 'positive' ? positive.unknown : negative.unknown;
    const targets = encoders.length === 1 && unknown.length === 0 ? textInputsOf(graph, encoders[0]!) : [];
    if (targets.length > 0) result[setting] = targets;
    else if (encoders.length > 1 || unknown.length > 0) {
      notes.push({ about: setting, message: promptNote(graph, side, setting, encoders, unknown) });
    } else if (encoders.length === 1) {
      const message = `The ${setting} text of ${describeNode(graph, encoders[0]!)} is linked from another node; pin "${setting}" in a manifest.`;
      notes.push({ about: setting, message });
    }
  }
  return result;
}

function promptNote(
  graph: ApiGraph,
  side: PromptSide,
  setting: 'prompt' | 'negative',
  encoders: readonly string[],
  unknown: readonly string[],
): string {
  const sources = [...encoders, ...unknown];
  const example = encoders.flatMap((id) => textInputsOf(graph, id)).map(formatTarget);
  return (
    `The ${side} conditioning comes from ${describeList(graph, sources)}, so the ${setting} is ambiguous; ` +
    `pin it in a manifest, e.g. "${setting}": ${JSON.stringify(example.length > 0 ? example : ['<node>.<input>'])}.`
  );
}

function ambiguityNote(graph: ApiGraph, setting: BindableSetting, targets: readonly InputTarget[]): string {
  const where = targets.map((target) => `${describeNode(graph, target.nodeId)} ${target.input}`).join(', ');
  const pins = JSON.stringify(targets.map(formatTarget));
  return `${targets.length} inputs could take ${setting} (${where}); pin the ones to set in a manifest, e.g. "${setting}": ${pins}.`;
}

function inferOutputs(graph: ApiGraph, notes: InferenceNote[]): string[] {
  const found = findOutputNodes(graph);
  const posted = defaultOutputs(found);
  const previews = found.filter((output) => output.role === 'previews' && !posted.includes(output));
  if (previews.length > 0) {
    const ids = previews.map((output) => output.nodeId);
    const message = `${describeList(graph, ids)} only previews and is not posted; list it in "outputs" to post it.`;
    notes.push({ about: 'outputs', message });
  }
  if (found.length === 0) {
    const message =
      'comfycord knows none of its output nodes, so each server decides: the files its output nodes report are posted; name yours in the manifest\'s "outputs" to be sure.';
    notes.push({ about: 'outputs', message });
  }
  return posted.map((output) => output.nodeId);
}

function describeList(graph: ApiGraph, ids: readonly string[]): string {
  return ids.map((id) => describeNode(graph, id)).join(' and ');
}
