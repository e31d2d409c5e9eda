/**
 * Turns what a member wrote (the prompt with its inline flags, the command's options, their `/settings` defaults and
 * whether they attached an image) into the settings of one generation, or one sentence that says what to fix.
 *
 * Pure: no I/O, so `/imagine` can refuse bad input with an ephemeral sentence before it defers, and the same rules
 * serve the buttons and the replies in a session thread.
 */
import { english, sentence, type Sentence } from '../i18n/catalog.js';
import { bindWorkflow, type BindError, type Workflow, type WorkflowKind } from './index.js';
import { parseFlags } from './flags.js';
import { resolveModelChoices, UNKNOWN_MODELS, type ModelCatalogue } from './model-catalogue.js';
import type { GenerationSettings, SettingsChange } from './settings.js';

/** The workflows a plan may choose from. */
export interface WorkflowCatalog {
  get(name: string): Workflow | undefined;
  list(): readonly Workflow[];
}

export interface PlanInput {
  /** The prompt as typed, flags included. */
  readonly text: string;
  /** The slash command's options other than the prompt (absent ones undefined). */
  readonly options: SettingsChange;
  /** The member's `/settings` defaults, applied under everything else. */
  readonly defaults: SettingsChange;
  /** Whether an input image comes with the request (its name is filled in when it reaches a server). */
  readonly hasImage: boolean;
}

export interface PlanContext {
  readonly workflows: WorkflowCatalog;
  /** The operator's DEFAULT_WORKFLOW, if set. */
  readonly defaultWorkflow?: string | undefined;
  readonly maxPromptLength: number;
  /** Whether the request comes from an age-restricted channel, where adult (`nsfw`) workflows may run. */
  readonly ageRestricted: boolean;
  /** The model files the servers offer; without it, model and LoRA names pass as typed. */
  readonly models?: ModelCatalogue;
}

export type GenerationPlan =
  | {
      readonly ok: true;
      readonly settings: GenerationSettings;
      readonly workflow: Workflow;
      /** Which of the member's defaults were used, for the card ("workflow sdxl, aspect 2:3"). */
      readonly defaultsApplied: string[];
    }
  | Refusal;

/** One sentence that says what to fix, with an identifier for the log. */
export interface Refusal {
  readonly ok: false;
  readonly identifier: string;
  /** In English (the web API, the command line). */
  readonly message: string;
  /** The same, for saying it in the member's language. */
  readonly sentences: readonly Sentence[];
}

// The name LoadImage gets before the real upload; binding only needs to know an image will be there.
const IMAGE_PLACEHOLDER = { name: 'pending-upload.png' };

/** Plans a generation from a prompt with flags, options and defaults. */
export function planGeneration(input: PlanInput, context: PlanContext): GenerationPlan {
  const request = readRequest(input);
  if (!request.ok) return request;
  return planSettings(request.explicit, input.defaults, input.hasImage, context);
}

/**
 * The refusals that no `/settings` default could change (a bad flag, a setting given twice, a prompt too long, a
 * workflow that does not exist), found without binding the workflow: cheap enough to run before acknowledging, so
 * these come back privately and at once. `planGeneration` after the defer finds the rest.
 */
export function screenRequest(input: Omit<PlanInput, 'defaults'>, context: PlanContext): Refusal | undefined {
  const request = readRequest(input);
  if (!request.ok) return request;
  const named = request.explicit.workflow;
  const tooLong = checkPromptLength(request.explicit.prompt, context);
  if (tooLong || named === undefined) return tooLong;
  const workflow = context.workflows.get(named);
  if (!workflow) return unknownWorkflow(named, context);
  return allowedHere(workflow, context) ? undefined : adultOnly(workflow);
}

/** The settings a member asked for in so many words: flags in the prompt and the command's options. */
function readRequest(input: Omit<PlanInput, 'defaults'>): { ok: true; explicit: GenerationSettings } | Refusal {
  const flags = parseFlags(input.text);
  if (!flags.ok) return refuse('bad-flag', flags.sentence);
  // LoRAs add up: one chosen in the option, more written as flags.
  const conflict = Object.keys(flags.settings).find(
    (key) => key !== 'loras' && input.options[key as keyof SettingsChange] !== undefined,
  );
  if (conflict) {
    const name = conflict === 'checkpoint' ? 'model' : conflict;
    return refuse('setting-twice', sentence('plan.settingTwice', { name }));
  }
  const loras = [...(input.options.loras ?? []), ...(flags.settings.loras ?? [])];
  const explicit = { ...stripUndefined(input.options), ...flags.settings, prompt: flags.prompt };
  return { ok: true, explicit: loras.length > 0 ? { ...explicit, loras } : explicit };
}

/** Plans a generation from settings already parsed (a reroll, a refine, an edit), with the member's defaults below. */
export function planSettings(
  requested: GenerationSettings,
  memberDefaults: SettingsChange,
  hasImage: boolean,
  context: PlanContext,
): GenerationPlan {
  let explicit = requested;
  const tooLong = checkPromptLength(explicit.prompt, context);
  if (tooLong) return tooLong;
  // A member's default adult workflow waits for an age-restricted channel; elsewhere the usual choice applies.
  const defaultUsable =
    memberDefaults.workflow === undefined || allowedHere(context.workflows.get(memberDefaults.workflow), context);
  const usableDefaults = defaultUsable ? memberDefaults : { ...memberDefaults, workflow: undefined };
  const workflow = pickWorkflow(explicit.workflow ?? usableDefaults.workflow, hasImage, context);
  if (!workflow.ok) return workflow;
  const models = context.models ?? UNKNOWN_MODELS;
  const defaults = withDefaultModel(usableDefaults, workflow.workflow, models);
  const chosen = resolveModelChoices({ ...explicit }, workflow.workflow, models);
  if (!chosen.ok) return refuse('unknown-model', chosen.sentence);
  explicit = chosen.settings;
  const usedDefaults = Object.entries(stripUndefined(defaults)).filter(
    ([key]) => explicit[key as keyof GenerationSettings] === undefined && acceptsDefault(workflow.workflow, key),
  );
  const settings: GenerationSettings = {
    ...Object.fromEntries(usedDefaults),
    ...stripUndefined(explicit),
    workflow: workflow.workflow.name,
  };
  const bound = bindWorkflow(workflow.workflow, hasImage ? { ...settings, image: IMAGE_PLACEHOLDER } : settings, {
    workflows: context.workflows.list(),
  });
  if (!bound.ok) return refuse('bad-setting', bound.errors.map(sentenceOf));
  const defaultsApplied = usedDefaults.filter(([key]) => key !== 'workflow' || explicit.workflow === undefined);
  return {
    ok: true,
    settings,
    workflow: workflow.workflow,
    defaultsApplied: defaultsApplied.map(([key, value]) => `${key === 'checkpoint' ? 'model' : key} ${String(value)}`),
  };
}

/**
 * The member's default model where the chosen workflow can use it (some server that runs it has that file), under
 * the name that server lists; elsewhere it is left out and the workflow's own model runs.
 */
function withDefaultModel(defaults: SettingsChange, workflow: Workflow, models: ModelCatalogue): SettingsChange {
  if (defaults.checkpoint === undefined || !workflow.settings.checkpoint) return defaults;
  const resolved = resolveModelChoices({ prompt: '', checkpoint: defaults.checkpoint }, workflow, models);
  return resolved.ok
    ? { ...defaults, checkpoint: resolved.settings.checkpoint }
    : { ...defaults, checkpoint: undefined };
}

function checkPromptLength(prompt: string, context: PlanContext): Refusal | undefined {
  if (prompt.length <= context.maxPromptLength) return undefined;
  return refuse(
    'prompt-too-long',
    sentence('plan.promptTooLong', { length: prompt.length, limit: context.maxPromptLength }),
  );
}

/** Whether a workflow may run where the request was made (unknown ones are left for the caller to refuse). */
function allowedHere(workflow: Workflow | undefined, context: PlanContext): boolean {
  return workflow?.nsfw !== true || context.ageRestricted;
}

function adultOnly(workflow: Workflow): Refusal {
  return refuse('adult-workflow', sentence('plan.adultWorkflow', { workflow: workflow.name }));
}

function unknownWorkflow(name: string, context: PlanContext): Refusal {
  const names = context.workflows
    .list()
    .filter((candidate) => allowedHere(candidate, context))
    .map((candidate) => candidate.name)
    .join(', ');
  return refuse(
    'unknown-workflow',
    names === '' ? sentence('plan.unknownWorkflowNone', { name }) : sentence('plan.unknownWorkflow', { name, names }),
  );
}

/** The first workflow of `kind` that may run where the request was made (Vary, Upscale, an image in a session). */
export function firstWorkflowOfKind(kind: WorkflowKind, context: PlanContext): Workflow | undefined {
  return context.workflows.list().find((candidate) => candidate.kind === kind && allowedHere(candidate, context));
}

/**
 * The workflow a request would run: the one named, else the member's default, else the operator's choice for the
 * kind of request. For autocomplete, which offers the models of the workflow that will run.
 */
export function workflowFor(
  named: string | undefined,
  memberDefaults: SettingsChange,
  hasImage: boolean,
  context: PlanContext,
): Workflow | undefined {
  const defaultWorkflow =
    memberDefaults.workflow !== undefined && allowedHere(context.workflows.get(memberDefaults.workflow), context)
      ? memberDefaults.workflow
      : undefined;
  const picked = pickWorkflow(named ?? defaultWorkflow, hasImage, context);
  return picked.ok ? picked.workflow : undefined;
}

function pickWorkflow(
  requested: string | undefined,
  hasImage: boolean,
  context: PlanContext,
): { ok: true; workflow: Workflow } | Refusal {
  if (requested !== undefined) {
    const workflow = context.workflows.get(requested);
    if (!workflow) return unknownWorkflow(requested, context);
    return allowedHere(workflow, context) ? { ok: true, workflow } : adultOnly(workflow);
  }
  // An attached image with no workflow named means image-to-image, whatever the text-to-image default is.
  const wantedKind = hasImage ? 'image-to-image' : 'text-to-image';
  const usable = (candidate: Workflow | undefined) => (allowedHere(candidate, context) ? candidate : undefined);
  const preferred = usable(
    context.defaultWorkflow === undefined ? undefined : context.workflows.get(context.defaultWorkflow),
  );
  const workflow =
    (preferred?.kind === wantedKind ? preferred : undefined) ??
    usable(context.workflows.get(hasImage ? 'img2img' : 'txt2img')) ??
    firstWorkflowOfKind(wantedKind, context) ??
    preferred;
  if (workflow) return { ok: true, workflow };
  return refuse('no-workflow', sentence('plan.noWorkflow'));
}

/**
 * The settings a workflow takes, the rest dropped: for carrying a generation's settings over to another workflow
 * (Vary runs image-to-image on a text-to-image result; its width and height mean nothing there).
 */
export function keepAccepted(settings: GenerationSettings, workflow: Workflow): GenerationSettings {
  const kept = Object.entries(settings).filter(
    ([key]) => key === 'prompt' || key === 'workflow' || acceptsDefault(workflow, key),
  );
  return { ...(Object.fromEntries(kept) as Partial<GenerationSettings>), prompt: settings.prompt };
}

/** A default applies only where the workflow takes it: a default count does not break an upscale. */
function acceptsDefault(workflow: Workflow, key: string): boolean {
  if (key === 'workflow') return true;
  return workflow.settings[key as keyof Workflow['settings']] !== undefined;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

function refuse(identifier: string, said: Sentence | readonly Sentence[]): Refusal {
  const sentences = 'key' in said ? [said] : said;
  return { ok: false, identifier, message: english(sentences), sentences };
}

/** A binding error's sentence (English text where it has none of the catalogue's). */
function sentenceOf(error: BindError): Sentence {
  return error.sentence ?? sentence('plan.asIs', { text: error.message });
}
