/**
 * Combines what the graph says (inference) with what the manifest says into the accepted settings: targets,
 * defaults, limits and choices. The manifest wins setting by setting; what it leaves out is inferred.
 */
import { aspectOf, inferResolution, type Resolution, sizeForAspect } from './aspect.js';
import { type ApiGraph, formatTarget, type InputTarget } from './graph.js';
import type { InferredBindings } from './inference.js';
import type { Manifest, ManifestSetting } from './manifest.js';
import { loraCapacity, type LoraBinding } from './lora-binding.js';
import { BINDABLE_SETTINGS, type BindableSetting } from './node-classes.js';
import { resolveTargetRef } from './resolve-refs.js';
import { MAX_COUNT, MAX_SEED } from './settings.js';
import type { SettingSpec, WorkflowSettingName } from './workflow.js';

type Specs = Partial<Record<WorkflowSettingName, SettingSpec>>;

/** The accepted settings and the size rules, or the reasons the manifest and graph do not fit together. */
export interface BuiltSettings {
  readonly settings: Specs;
  readonly resolution?: Resolution;
  readonly reasons: readonly string[];
}

// Limits for settings a manifest does not bound: generous, but they keep a typo like --steps 3000 off the GPU.
const DEFAULT_LIMITS: Partial<Record<BindableSetting, { min: number; max: number }>> = {
  seed: { min: 0, max: MAX_SEED },
  steps: { min: 1, max: 100 },
  cfg: { min: 0, max: 30 },
  denoise: { min: 0, max: 1 },
  count: { min: 1, max: MAX_COUNT },
};

const NUMERIC: readonly BindableSetting[] = ['seed', 'steps', 'cfg', 'denoise', 'width', 'height', 'count'];

interface Context {
  readonly graph: ApiGraph;
  readonly manifest: Manifest | undefined;
  readonly manifestFile: string;
  readonly inferred: InferredBindings;
  readonly reasons: string[];
}

/** Builds every accepted setting of a workflow. */
export function buildSettings(
  graph: ApiGraph,
  manifest: Manifest | undefined,
  manifestFile: string,
  inferred: InferredBindings,
): BuiltSettings {
  const context: Context = { graph, manifest, manifestFile, inferred, reasons: [] };
  const targets = new Map<BindableSetting, InputTarget[]>();
  for (const setting of BINDABLE_SETTINGS) {
    // LoRAs are a list with their own binding (lora-binding.ts); `loraSpec` describes them.
    if (setting === 'lora') continue;
    const found = targetsFor(setting, context);
    if (found) targets.set(setting, found);
  }
  const resolution = resolutionFor(targets, context);
  const settings: Specs = {};
  for (const [setting, settingTargets] of targets) {
    settings[setting] = specFor(setting, settingTargets, resolution, context);
  }
  const aspect = aspectSpec(settings, resolution, context);
  if (aspect) settings.aspect = aspect;
  checkSpecs(settings, context);
  return { settings, ...(resolution ? { resolution } : {}), reasons: context.reasons };
}

/** The `lora` setting as people read it: how many, the weight range and the allowed names. */
export function loraSpec(binding: LoraBinding, manifest: Manifest | undefined): SettingSpec {
  const entry = manifest?.settings?.lora || undefined;
  const targets = binding.mode === 'slots' ? binding.slots.map((nodeId) => ({ nodeId, input: 'lora_name' })) : [];
  return {
    name: 'lora',
    targets,
    min: binding.weight.min,
    max: binding.weight.max,
    most: loraCapacity(binding),
    ...(entry?.choices ? { choices: entry.choices } : {}),
    required: false,
  };
}

function entryOf(setting: BindableSetting, context: Context): ManifestSetting | false | undefined {
  return context.manifest?.settings?.[setting];
}

function targetsFor(setting: BindableSetting, context: Context): InputTarget[] | undefined {
  const entry = entryOf(setting, context);
  if (entry === false) return undefined;
  if (entry && 'to' in entry && entry.to !== undefined) {
    const refs = typeof entry.to === 'string' ? [entry.to] : entry.to;
    const resolved = refs.map((ref) => ({ ref, result: resolveTargetRef(context.graph, ref) }));
    for (const { ref, result } of resolved) {
      if (!result.ok)
        context.reasons.push(`${context.manifestFile}: settings.${setting}.to "${ref}": ${result.message}.`);
    }
    // A setting with a broken reference is left out entirely; the reason already disables the workflow.
    return resolved.every(({ result }) => result.ok)
      ? resolved.flatMap(({ result }) => (result.ok ? [result.value] : []))
      : undefined;
  }
  const inferred = context.inferred.bindings[setting];
  if (inferred) return [...inferred];
  if (entry) {
    context.reasons.push(
      `${context.manifestFile}: settings.${setting} has no "to" and no input for it could be inferred; add "to": "<node id or title>.<input>".`,
    );
  }
  return undefined;
}

function graphValue(context: Context, targets: readonly InputTarget[]): unknown {
  const [first] = targets;
  return first ? context.graph[first.nodeId]?.inputs[first.input] : undefined;
}

function resolutionFor(targets: Map<BindableSetting, InputTarget[]>, context: Context): Resolution | undefined {
  const width = graphValue(context, targets.get('width') ?? []);
  const height = graphValue(context, targets.get('height') ?? []);
  const fromManifest = context.manifest?.resolution;
  if (fromManifest)
    return { base: fromManifest.base, multiple: fromManifest.multiple ?? (fromManifest.base >= 1024 ? 64 : 8) };
  return typeof width === 'number' && typeof height === 'number' ? inferResolution(width, height) : undefined;
}

function specFor(
  setting: BindableSetting,
  targets: readonly InputTarget[],
  resolution: Resolution | undefined,
  context: Context,
): SettingSpec {
  const entry = entryOf(setting, context) || undefined;
  const fallback = defaultFromGraph(setting, targets, resolution, context);
  const value = entry && 'default' in entry && entry.default !== undefined ? entry.default : fallback;
  const limits = limitsFor(setting, entry, value, resolution);
  const choices = entry && 'choices' in entry ? entry.choices : undefined;
  const required = (setting === 'image' || setting === 'prompt') && value === undefined;
  return {
    name: setting,
    targets,
    ...(value === undefined ? {} : { default: value }),
    ...limits,
    ...(choices ? { choices } : {}),
    required,
  };
}

function defaultFromGraph(
  setting: BindableSetting,
  targets: readonly InputTarget[],
  resolution: Resolution | undefined,
  context: Context,
): string | number | undefined {
  // The graph's prompt text is the operator's example, its seed a leftover, its image a placeholder: none is a default.
  if (setting === 'prompt' || setting === 'seed' || setting === 'image') return undefined;
  const manifestAspect = context.manifest?.settings?.aspect;
  if ((setting === 'width' || setting === 'height') && manifestAspect && manifestAspect.default && resolution) {
    return sizeForAspect(manifestAspect.default, resolution)[setting];
  }
  const value = graphValue(context, targets);
  const numeric = NUMERIC.includes(setting);
  if (numeric ? typeof value === 'number' : typeof value === 'string') return value as string | number;
  context.reasons.push(
    `${formatTarget(targets[0]!)} holds ${JSON.stringify(value)}, not ${numeric ? 'a number' : 'text'}, so ${setting} has no default; set settings.${setting}.default in a manifest.`,
  );
  return undefined;
}

function limitsFor(
  setting: BindableSetting,
  entry: ManifestSetting | undefined,
  value: string | number | undefined,
  resolution: Resolution | undefined,
): { min?: number; max?: number } {
  if (!NUMERIC.includes(setting)) return {};
  // Twice the base covers a 4:1 ratio at full pixel count; without a base, 2048 is a safe ceiling.
  const sizeLimits = { min: 64, max: resolution ? resolution.base * 2 : 2048 };
  const base = setting === 'width' || setting === 'height' ? sizeLimits : DEFAULT_LIMITS[setting];
  const fromEntry = { min: numberField(entry, 'min'), max: numberField(entry, 'max') };
  // An inferred limit stretches to include the graph's own value; only a manifest's limits are strict.
  const fromValue = typeof value === 'number' ? value : undefined;
  const min = fromEntry.min ?? (base && fromValue !== undefined ? Math.min(base.min, fromValue) : base?.min);
  const max = fromEntry.max ?? (base && fromValue !== undefined ? Math.max(base.max, fromValue) : base?.max);
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

function numberField(entry: ManifestSetting | undefined, key: 'min' | 'max'): number | undefined {
  const value = entry === undefined ? undefined : (entry as Partial<Record<'min' | 'max', unknown>>)[key];
  return typeof value === 'number' ? value : undefined;
}

function aspectSpec(settings: Specs, resolution: Resolution | undefined, context: Context): SettingSpec | undefined {
  const entry = context.manifest?.settings?.aspect;
  const { width, height } = settings;
  if (entry && (!width || !height)) {
    context.reasons.push(
      `${context.manifestFile}: settings.aspect needs both width and height to be bound; bind them or set "aspect": false.`,
    );
  }
  if (entry === false || !width || !height || !resolution) return undefined;
  const fallback =
    typeof width.default === 'number' && typeof height.default === 'number'
      ? aspectOf(width.default, height.default)
      : undefined;
  const value = entry?.default ?? fallback;
  return {
    name: 'aspect',
    targets: [],
    ...(value === undefined ? {} : { default: value }),
    ...(entry?.choices ? { choices: entry.choices } : {}),
    required: false,
  };
}

function checkSpecs(settings: Specs, context: Context): void {
  for (const spec of Object.values(settings)) {
    const where = `${context.manifestFile}: settings.${spec.name}`;
    if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
      context.reasons.push(`${where}: min ${spec.min} is above max ${spec.max}.`);
    }
    const value = spec.default;
    if (typeof value === 'number' && ((spec.min ?? value) > value || value > (spec.max ?? value))) {
      context.reasons.push(`${where}: the default ${value} is outside ${spec.min} to ${spec.max}.`);
    }
    if (value !== undefined && spec.choices && !spec.choices.includes(value)) {
      context.reasons.push(`${where}: the default ${JSON.stringify(value)} is not one of its choices.`);
    }
  }
}
