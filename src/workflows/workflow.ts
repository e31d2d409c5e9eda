/**
 * A loaded workflow: its graph, what it is, the settings it accepts (with defaults, limits and choices) and where
 * each goes. The Discord `/workflows` command, autocomplete, the CLI and `bindWorkflow` all read this one shape.
 */
import type { ApiGraph, InputTarget } from './graph.js';
import type { Resolution } from './aspect.js';
import type { WorkflowKind } from './manifest.js';
import type { LoraBinding } from './lora-binding.js';
import type { BindableSetting } from './node-classes.js';
import { LORA_WEIGHT_RANGE } from './settings.js';
import { text, textIfAny, type TextKey, type TextParams } from '../i18n/catalog.js';

export type { WorkflowKind } from './manifest.js';

/** The settings a workflow can accept: the bindable ones, plus aspect (which becomes width and height). */
export type WorkflowSettingName = BindableSetting | 'aspect';

/** The order settings are listed in for people. */
export const WORKFLOW_SETTING_ORDER: readonly WorkflowSettingName[] = [
  'prompt',
  'negative',
  'image',
  'aspect',
  'width',
  'height',
  'count',
  'seed',
  'steps',
  'cfg',
  'denoise',
  'checkpoint',
  'lora',
];

/** One accepted setting: where it goes, and what values it takes. */
export interface SettingSpec {
  readonly name: WorkflowSettingName;
  /** The node inputs the value is written to (empty for aspect, which sets width and height). */
  readonly targets: readonly InputTarget[];
  /** The value used when the member gives none; absent for seed (always fresh) and for required settings. */
  readonly default?: string | number;
  readonly min?: number;
  readonly max?: number;
  /** The only values allowed, when the manifest restricts them. */
  readonly choices?: readonly (string | number)[];
  /** For a list (LoRAs): how many values at most; `min` and `max` are then the range of each one's weight. */
  readonly most?: number;
  /** The member must give it (a text-to-image prompt, an input image). */
  readonly required: boolean;
}

/** A node whose results are posted. */
export interface OutputNode {
  readonly nodeId: string;
  readonly classType: string;
  readonly title?: string;
  /** What it produces, for people: `images`, `video`, `animated images`, `audio`, `text`, `files`... */
  readonly produces: string;
}

/** A workflow ready to be bound and submitted. Immutable: `bindWorkflow` copies the graph. */
export interface Workflow {
  /** What members type after `--wf`, from the file name or the manifest. */
  readonly name: string;
  readonly description: string;
  readonly kind: WorkflowKind;
  /** The graph file's name, for reports. */
  readonly file: string;
  readonly graph: ApiGraph;
  readonly settings: Readonly<Partial<Record<WorkflowSettingName, SettingSpec>>>;
  /** Where a member's LoRAs go; absent when the workflow takes none (its `lora` setting is then absent too). */
  readonly loras?: LoraBinding;
  /** Present when the workflow takes a size: the model's base resolution and the multiple sizes snap to. */
  readonly resolution?: Resolution;
  /** The nodes whose results are posted; empty when none is known, and then each server's output nodes decide. */
  readonly outputs: readonly OutputNode[];
  /** The workflow to use instead where this one cannot run. */
  readonly fallback?: string;
  /** Adult content (the manifest's `nsfw`): only in age-restricted channels. */
  readonly nsfw: boolean;
  /** Whether a manifest described it or everything was inferred from the graph. */
  readonly source: 'manifest' | 'inferred';
  /** What a manifest should pin, and other remarks for the operator. */
  readonly notes: readonly string[];
}

/** The settings a workflow accepts, in the order people read them. */
export function acceptedSettings(workflow: Workflow): SettingSpec[] {
  return WORKFLOW_SETTING_ORDER.flatMap((name) => {
    const spec = workflow.settings[name];
    return spec ? [spec] : [];
  });
}

/**
 * One line for people (`/workflows` in the member's language, the CLI in English): `steps: default 25, 1–60`,
 * `seed: random unless set`. The setting's name stays as it is typed in flags (`model` for the checkpoint).
 */
export function describeSetting(spec: SettingSpec, locale?: string | null): string {
  const say = (key: TextKey, params?: TextParams) => text(locale, key, params);
  const oneOf = spec.choices ? [say('describe.oneOf', { choices: spec.choices.join(', ') })] : [];
  const line = (name: string, parts: readonly string[]) =>
    `${name}: ${parts.length > 0 ? parts.join(', ') : say('describe.optional')}`;
  if (spec.name === 'seed') return line('seed', [say('describe.randomSeed')]);
  if (spec.name === 'lora') {
    // The usual range goes unsaid: /workflows must fit in one Discord message.
    const usual = spec.min === LORA_WEIGHT_RANGE.min && spec.max === LORA_WEIGHT_RANGE.max;
    const range =
      spec.min !== undefined && spec.max !== undefined && !usual
        ? [say('describe.weight', { min: spec.min, max: spec.max })]
        : [];
    return line('lora', [say('describe.upTo', { most: spec.most ?? 1 }), ...range, ...oneOf]);
  }
  const byDefault =
    spec.default === undefined
      ? []
      : [
          say('describe.default', {
            value: typeof spec.default === 'string' ? JSON.stringify(spec.default) : spec.default,
          }),
        ];
  if (spec.name === 'checkpoint') {
    return line('model', [...(byDefault.length > 0 ? byDefault : [say('describe.optional')]), ...oneOf]);
  }
  const range = !spec.choices && spec.min !== undefined && spec.max !== undefined ? [`${spec.min}–${spec.max}`] : [];
  return line(spec.name, [...(spec.required ? [say('describe.required')] : []), ...byDefault, ...oneOf, ...range]);
}

/** What a workflow outputs, for people: `images, text`; `whatever its output nodes save` when none is known. */
export function describeOutputs(workflow: Workflow, locale?: string | null): string {
  const kinds = [...new Set(workflow.outputs.map((output) => output.produces))];
  if (kinds.length === 0) return text(locale, 'output.unknown');
  // A kind the catalogue does not name (a custom node pack's) is said as the node declares it.
  return kinds.map((kind) => textIfAny(locale, `output.${kind}`) ?? kind).join(', ');
}
