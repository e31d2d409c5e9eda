/**
 * Turns what a member wrote (the prompt with its inline flags, the command's options, their `/settings` defaults and
 * whether they attached an image) into the settings of one generation, or one sentence that says what to fix.
 *
 * Pure: no I/O, so `/imagine` can refuse bad input with an ephemeral sentence before it defers, and the same rules
 * serve the buttons and the replies in a session thread.
 */
import { bindWorkflow, type Workflow } from '../workflows/index.js';
import { parseFlags } from '../workflows/flags.js';
import type { GenerationSettings, SettingsChange } from '../workflows/settings.js';

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
}

export type GenerationPlan =
  | {
      readonly ok: true;
      readonly settings: GenerationSettings;
      readonly workflow: Workflow;
      /** Which of the member's defaults were used, for the card ("workflow sdxl, aspect 2:3"). */
      readonly defaultsApplied: string[];
    }
  | { readonly ok: false; readonly identifier: string; readonly message: string };

// The name LoadImage gets before the real upload; binding only needs to know an image will be there.
const IMAGE_PLACEHOLDER = { name: 'pending-upload.png' };

/** Plans a generation from a prompt with flags, options and defaults. */
export function planGeneration(input: PlanInput, context: PlanContext): GenerationPlan {
  const flags = parseFlags(input.text);
  if (!flags.ok) return refuse('bad-flag', flags.message);
  const conflict = Object.keys(flags.settings).find((key) => input.options[key as keyof SettingsChange] !== undefined);
  if (conflict) {
    return refuse('setting-twice', `You set ${conflict} both as an option and as a flag; keep one.`);
  }
  const explicit: SettingsChange = { ...stripUndefined(input.options), ...flags.settings };
  return planSettings({ ...explicit, prompt: flags.prompt }, input.defaults, input.hasImage, context);
}

/** Plans a generation from settings already parsed (a reroll, a refine, an edit), with the member's defaults below. */
export function planSettings(
  explicit: GenerationSettings,
  defaults: SettingsChange,
  hasImage: boolean,
  context: PlanContext,
): GenerationPlan {
  if (explicit.prompt.length > context.maxPromptLength) {
    return refuse(
      'prompt-too-long',
      `Your prompt is ${explicit.prompt.length} characters long; the limit is ${context.maxPromptLength}.`,
    );
  }
  const workflow = pickWorkflow(explicit.workflow ?? defaults.workflow, hasImage, context);
  if (!workflow.ok) return workflow;
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
  if (!bound.ok) return refuse('bad-setting', bound.errors.map((error) => error.message).join(' '));
  const defaultsApplied = usedDefaults.filter(([key]) => key !== 'workflow' || explicit.workflow === undefined);
  return {
    ok: true,
    settings,
    workflow: workflow.workflow,
    defaultsApplied: defaultsApplied.map(([key, value]) => `${key} ${String(value)}`),
  };
}

function pickWorkflow(
  requested: string | undefined,
  hasImage: boolean,
  context: PlanContext,
): { ok: true; workflow: Workflow } | Extract<GenerationPlan, { ok: false }> {
  const all = context.workflows.list();
  if (requested !== undefined) {
    const workflow = context.workflows.get(requested);
    if (workflow) return { ok: true, workflow };
    const names = all.map((candidate) => candidate.name).join(', ');
    return refuse(
      'unknown-workflow',
      `There is no workflow called ${requested}; choose one of: ${names || 'none loaded'}.`,
    );
  }
  // An attached image with no workflow named means image-to-image, whatever the text-to-image default is.
  const wantedKind = hasImage ? 'image-to-image' : 'text-to-image';
  const preferred = context.defaultWorkflow === undefined ? undefined : context.workflows.get(context.defaultWorkflow);
  const workflow =
    (preferred?.kind === wantedKind ? preferred : undefined) ??
    context.workflows.get(hasImage ? 'img2img' : 'txt2img') ??
    all.find((candidate) => candidate.kind === wantedKind) ??
    preferred;
  if (workflow) return { ok: true, workflow };
  return refuse('no-workflow', 'No workflow is loaded right now; please tell the server admins.');
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

function refuse(identifier: string, message: string): Extract<GenerationPlan, { ok: false }> {
  return { ok: false, identifier, message };
}
