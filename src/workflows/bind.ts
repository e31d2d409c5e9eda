/**
 * Binding: (workflow, settings) -> the graph to submit. Values are written into a deep copy of the graph as values
 * (a prompt is never spliced into JSON text), every setting is checked against the workflow's limits, and a setting
 * the workflow cannot use is an error that says which workflow can, never silently dropped.
 */
import type { ApiGraph } from './graph.js';
import { bindSize, takesSize } from './bind-size.js';
import { english, sentence, type Sentence, type TextKey } from '../i18n/catalog.js';
import { sameFile, spellingIn } from './file-spellings.js';
import { applyLoras, loraCapacity } from './lora-binding.js';
import type { ModelLists } from './object-info.js';
import { isWithin, type SettingRanges } from './server-ranges.js';
import {
  type GenerationSettings,
  generationSettingsSchema,
  type LoraChoice,
  randomSeed,
  type SettingName,
} from './settings.js';
import { type SettingSpec, type Workflow, type WorkflowSettingName } from './workflow.js';
import { describeZodIssue } from './zod-sentences.js';

/** The values a generation actually used, for the result card and the history. */
export interface AppliedSettings {
  prompt?: string;
  negative?: string;
  image?: string;
  width?: number;
  height?: number;
  aspect?: string;
  count?: number;
  seed?: number;
  steps?: number;
  cfg?: number;
  denoise?: number;
  checkpoint?: string;
  /** The LoRAs the member chose, with their weights; absent when the graph's own ran. */
  loras?: Required<LoraChoice>[];
}

/** One setting that cannot be used as given, with a sentence for the member. */
export interface BindError {
  readonly setting: SettingName;
  /** In English. */
  readonly message: string;
  /** The same, for saying it in the member's language; absent only for the settings' schema's own (zod) words. */
  readonly sentence?: Sentence;
}

/** The graph to submit and the values used, or every setting that cannot be used as given. */
export type BindResult =
  | { readonly ok: true; readonly graph: ApiGraph; readonly applied: AppliedSettings }
  | { readonly ok: false; readonly errors: readonly BindError[] };

/** What binding may need besides the workflow and the settings. */
export interface BindOptions {
  /** The random source for fresh seeds (tests pass a fixed one). */
  readonly random?: () => number;
  /** The chosen server's models: a checkpoint or LoRA a member names must be one of them. */
  readonly models?: Partial<Pick<ModelLists, 'checkpoints' | 'loras'>>;
  /** The loaded workflows in order of preference (the default first), to suggest one that takes a setting. */
  readonly workflows?: readonly Workflow[];
  /**
   * The ranges the chosen server declares for the inputs the settings go to (`settingRanges`): a fresh seed is drawn
   * within them, and a value outside them is refused with a sentence rather than sent to be rejected there.
   */
  readonly ranges?: SettingRanges;
}

type Value = string | number;

/** Binds settings to a workflow: the graph to submit and the values applied, or every error at once. */
export function bindWorkflow(workflow: Workflow, settings: GenerationSettings, options: BindOptions = {}): BindResult {
  const parsed = generationSettingsSchema.safeParse(settings, { reportInput: true });
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({
        setting: (issue.path[0] ?? 'prompt') as SettingName,
        message: `${describeZodIssue(issue)}.`,
      })),
    };
  }
  const errors = unacceptedSettings(workflow, parsed.data, options.workflows ?? []);
  const values = new Map<WorkflowSettingName, Value>();
  const sized = takesSize(workflow);
  for (const spec of Object.values(workflow.settings)) {
    // Width, height and aspect are worked out together when the workflow takes a whole size; LoRAs are a list.
    if (spec.name === 'aspect' || spec.name === 'lora' || (sized && spec.name === 'height')) continue;
    const together = sized && spec.name === 'width';
    const result = together ? sizeValues(workflow, parsed.data) : valueFor(workflow, spec, parsed.data, options);
    if ('error' in result) errors.push(result.error);
    else for (const [name, value] of result.values) values.set(name, value);
  }
  errors.push(...outsideServerRanges(workflow, values, options.ranges));
  const loras = workflow.settings.lora ? loraValues(workflow, parsed.data.loras, options) : { values: [] };
  if ('error' in loras) errors.push(...loras.error);
  if (errors.length > 0 || 'error' in loras) return { ok: false, errors };
  const graph = writeValues(workflow, values);
  if (workflow.loras && parsed.data.loras !== undefined) applyLoras(graph, workflow.loras, loras.values);
  const applied = Object.fromEntries(values) as AppliedSettings;
  return { ok: true, graph, applied: loras.values.length > 0 ? { ...applied, loras: loras.values } : applied };
}

/** The member's LoRAs with their weights, checked against the workflow and the server; empty when none is named. */
function loraValues(
  workflow: Workflow,
  loras: readonly LoraChoice[] | undefined,
  options: BindOptions,
): { values: Required<LoraChoice>[] } | { error: BindError[] } {
  const spec = workflow.settings.lora!;
  const binding = workflow.loras;
  if (!loras || !binding) return { values: [] };
  const errors: BindError[] = [];
  const most = loraCapacity(binding);
  if (loras.length > most) {
    const said = sentence(most > 1 ? 'bind.mostLoras' : 'bind.oneLora', { workflow: workflow.name, most });
    errors.push(said_(`lora`, said));
  }
  const values = loras.map((lora) => ({ name: lora.name, weight: lora.weight ?? binding.weight.default }));
  for (const lora of values) {
    const { min, max } = binding.weight;
    if (lora.weight < min || lora.weight > max) {
      errors.push(said_('lora', sentence('bind.loraWeight', { weight: lora.weight, name: lora.name, min, max })));
    }
    const problem = rangeProblem(workflow.name, spec, lora.name) ?? modelProblem('lora', lora.name, options);
    if (problem) errors.push(said_('lora', problem));
  }
  return errors.length > 0 ? { error: errors } : { values };
}

function outsideServerRanges(
  workflow: Workflow,
  values: ReadonlyMap<WorkflowSettingName, Value>,
  ranges: SettingRanges | undefined,
): BindError[] {
  const errors: BindError[] = [];
  for (const [name, value] of values) {
    const range = ranges?.[name];
    if (typeof value !== 'number' || range === undefined || isWithin(value, range)) continue;
    const params = { setting: name, min: range.min ?? '-∞', max: range.max ?? '∞', workflow: workflow.name };
    errors.push(said_(name, sentence('bind.serverBetween', params)));
  }
  return errors;
}

type Outcome = { values: Array<[WorkflowSettingName, Value]> } | { error: BindError };

function valueFor(workflow: Workflow, spec: SettingSpec, settings: GenerationSettings, options: BindOptions): Outcome {
  const name = spec.name as Exclude<WorkflowSettingName, 'aspect' | 'width' | 'height'>;
  const given = givenValue(name, settings);
  const value = name === 'seed' ? (given ?? freshSeed(spec, options)) : (given ?? spec.default);
  if (value === undefined || (name === 'prompt' && String(value).trim() === '')) {
    const key = name === 'image' ? 'bind.needsImage' : name === 'prompt' ? 'bind.needsPrompt' : 'bind.needsSetting';
    return { error: said_(name, sentence(key, { workflow: workflow.name, setting: name })) };
  }
  const problem = rangeProblem(workflow.name, spec, value) ?? modelProblem(name, value, options);
  return problem ? { error: said_(name, problem) } : { values: [[name, value]] };
}

function freshSeed(spec: SettingSpec, options: BindOptions): number {
  const min = Math.max(spec.min ?? 0, options.ranges?.seed?.min ?? 0);
  const max = Math.min(spec.max ?? Infinity, options.ranges?.seed?.max ?? Infinity);
  return min + randomSeed(options.random, max - min);
}

function givenValue(name: WorkflowSettingName, settings: GenerationSettings): Value | undefined {
  if (name === 'image') return settings.image?.name;
  if (name === 'prompt') return settings.prompt.trim() === '' ? undefined : settings.prompt;
  const value = settings[name as keyof GenerationSettings];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

function sizeValues(workflow: Workflow, settings: GenerationSettings): Outcome {
  const size = bindSize(workflow, settings);
  if (!size.ok) return { error: said_(size.setting, size.sentence) };
  const values: Array<[WorkflowSettingName, Value]> = [
    ['width', size.width],
    ['height', size.height],
  ];
  return { values: workflow.settings.aspect ? [...values, ['aspect', size.aspect]] : values };
}

/** A value outside the limits a manifest (or the workflow's own graph) sets. */
function rangeProblem(workflow: string, spec: SettingSpec, value: Value): Sentence | undefined {
  if (spec.choices && !spec.choices.some((choice) => choice === value || isSameFile(choice, value))) {
    const choices = spec.choices.join(', ');
    if (spec.name === 'checkpoint') return sentence('bind.modelOneOf', { choices, workflow });
    if (spec.name === 'lora') return sentence('bind.loraOneOf', { choices, workflow });
    return sentence('bind.oneOf', { setting: spec.name, choices, workflow });
  }
  if (typeof value !== 'number') return undefined;
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    return sentence('bind.between', { setting: spec.name, min: spec.min ?? 0, max: spec.max ?? '∞', workflow });
  }
  return undefined;
}

/** A model or LoRA the chosen server does not have, with some of those it has. */
function modelProblem(name: WorkflowSettingName, value: Value, options: BindOptions): Sentence | undefined {
  const available =
    name === 'checkpoint' ? options.models?.checkpoints : name === 'lora' ? options.models?.loras : undefined;
  if (!available || spellingIn(available, String(value)) !== undefined) return undefined;
  const some = `${available.slice(0, 5).join(', ')}${available.length > 5 ? ', …' : ''}`;
  const lora = name === 'lora';
  if (available.length === 0) return sentence(lora ? 'bind.loraNotOnServer' : 'bind.modelNotOnServer', { name: value });
  return sentence(lora ? 'bind.loraNotOnServerHas' : 'bind.modelNotOnServerHas', { name: value, some });
}

const PHRASES: Partial<Record<SettingName, TextKey>> = {
  prompt: 'setting.prompt',
  seed: 'setting.seed',
  steps: 'setting.steps',
  cfg: 'setting.cfg',
  negative: 'setting.negative',
  image: 'setting.image',
  aspect: 'setting.aspect',
  width: 'setting.width',
  height: 'setting.height',
  denoise: 'setting.denoise',
  checkpoint: 'setting.checkpoint',
  loras: 'setting.loras',
};

function unacceptedSettings(
  workflow: Workflow,
  settings: GenerationSettings,
  others: readonly Workflow[],
): BindError[] {
  const errors: BindError[] = [];
  if (settings.workflow !== undefined && settings.workflow.toLowerCase() !== workflow.name.toLowerCase()) {
    const said = sentence('bind.settingsFor', { named: settings.workflow, workflow: workflow.name });
    errors.push(said_('workflow', said));
  }
  for (const [key, value] of Object.entries(settings)) {
    const name = key as SettingName;
    if (value === undefined || name === 'workflow' || workflow.settings[settingOf(name)]) continue;
    // A blank prompt and a single image are what every workflow does anyway.
    if ((name === 'prompt' && String(value).trim() === '') || (name === 'count' && value === 1)) continue;
    const phrase = PHRASES[name];
    const alternative = suggestWorkflow(workflow, name, others);
    const params = {
      workflow: workflow.name,
      setting: phrase ? sentence(phrase) : name,
      other: alternative?.name ?? '',
    };
    const said =
      name === 'count'
        ? sentence(alternative ? 'bind.oneImageUse' : 'bind.oneImage', params)
        : sentence(alternative ? 'bind.doesNotTakeUse' : 'bind.doesNotTake', params);
    errors.push(said_(name, said));
  }
  return errors;
}

// Only a workflow of the same kind is a sensible alternative, except that an image or a denoise strength asks for
// image-to-image. `others` comes in the caller's order of preference (the default workflow first).
function suggestWorkflow(workflow: Workflow, name: SettingName, others: readonly Workflow[]): Workflow | undefined {
  const wantedKind = name === 'image' || name === 'denoise' ? 'image-to-image' : workflow.kind;
  return others.find(
    (other) => other.name !== workflow.name && other.kind === wantedKind && other.settings[settingOf(name)],
  );
}

/** The workflow setting a generation setting goes to: a list of LoRAs to the workflow's `lora`. */
function settingOf(name: SettingName): WorkflowSettingName {
  return name === 'loras' ? 'lora' : (name as WorkflowSettingName);
}

function writeValues(workflow: Workflow, values: ReadonlyMap<WorkflowSettingName, Value>): ApiGraph {
  const graph = structuredClone(workflow.graph) as ApiGraph;
  for (const [name, value] of values) {
    for (const target of workflow.settings[name]?.targets ?? []) graph[target.nodeId]!.inputs[target.input] = value;
  }
  return graph;
}

function isSameFile(a: Value, b: Value): boolean {
  return typeof a === 'string' && typeof b === 'string' && sameFile(a, b);
}

/** A binding error said with a sentence of the catalogue. */
function said_(setting: SettingName, said: Sentence): BindError {
  return { setting, message: english(said), sentence: said };
}
