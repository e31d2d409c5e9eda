/**
 * The model files members may choose from, for each workflow: what the servers that can run it list for its model
 * and LoRA choices, together. Autocomplete offers these, and a typed name is resolved against them into the exact
 * name a server lists, or refused with the closest few.
 */
import { portableNames, sameFile } from './file-spellings.js';
import { resolveModelName, speakableName } from './model-names.js';
import { settleLoras } from './lora-choices.js';
import type { GenerationSettings, LoraChoice } from './settings.js';
import type { Workflow } from './workflow.js';
import type { WorkflowModels } from './workflow-models.js';

/** The two kinds of file a member chooses. */
export type ModelKind = 'checkpoints' | 'loras';

/** The files the servers offer. */
export interface ModelCatalogue {
  /**
   * The files some server that can run `workflow` lists for its model (or LoRA) choice, in no particular order;
   * undefined while no server has been checked yet or none lists files for that choice (nothing can be checked).
   */
  choices(workflow: Workflow, kind: ModelKind): readonly string[] | undefined;
}

/** What one checked server offers, as the job runner reports it (each name as that server spells it). */
export interface ServerModelChoices {
  /** Lower-case names of the workflows it can run. */
  readonly workflows: ReadonlySet<string>;
  /** Per workflow (lower-case name), the files its choices may name there. */
  readonly choices: ReadonlyMap<string, WorkflowModels>;
}

/** A catalogue over what the servers report now (read at every call: servers come and go). */
export function catalogueOf(servers: () => readonly ServerModelChoices[]): ModelCatalogue {
  return {
    choices(workflow, kind) {
      const key = workflow.name.toLowerCase();
      const lists = servers()
        .filter((server) => server.workflows.has(key))
        .map((server) => server.choices.get(key)?.[kind])
        .filter((list): list is readonly string[] => list !== undefined);
      if (lists.length === 0) return undefined;
      // One file listed by a Windows and a Linux server is one choice, under its portable name.
      const offered = portableNames(lists.flat());
      const allowed = workflow.settings[kind === 'checkpoints' ? 'checkpoint' : 'lora']?.choices;
      return allowed ? offered.filter((name) => allowed.some((choice) => sameFile(String(choice), name))) : offered;
    },
  };
}

/** A catalogue that knows nothing (the CLI, tests without servers): names pass as typed. */
export const UNKNOWN_MODELS: ModelCatalogue = { choices: () => undefined };

/** The settings with every model and LoRA name as a server lists it, or one sentence about the first unknown one. */
export function resolveModelChoices(
  settings: GenerationSettings,
  workflow: Workflow,
  catalogue: ModelCatalogue,
): { ok: true; settings: GenerationSettings } | { ok: false; message: string } {
  let resolved = settings;
  if (settings.checkpoint !== undefined && workflow.settings.checkpoint) {
    const name = resolveOne(settings.checkpoint, 'model', workflow, catalogue.choices(workflow, 'checkpoints'));
    if (!name.ok) return name;
    resolved = { ...resolved, checkpoint: name.name };
  }
  if (settings.loras !== undefined && workflow.settings.lora) {
    const available = catalogue.choices(workflow, 'loras');
    const loras: LoraChoice[] = [];
    for (const lora of settings.loras) {
      const name = resolveOne(lora.name, 'LoRA', workflow, available);
      if (!name.ok) return name;
      loras.push({ ...lora, name: name.name });
    }
    // Once names are the servers' own, the same file named twice is one LoRA, and one at weight 0 is taken out.
    resolved = { ...resolved, loras: settleLoras(loras) };
  }
  return { ok: true, settings: resolved };
}

function resolveOne(
  typed: string,
  what: 'model' | 'LoRA',
  workflow: Workflow,
  available: readonly string[] | undefined,
): { ok: true; name: string } | { ok: false; message: string } {
  if (available === undefined) return { ok: true, name: typed };
  if (available.length === 0) {
    return { ok: false, message: `No image server that runs ${workflow.name} has a ${what} to choose from.` };
  }
  const match = resolveModelName(typed, available);
  if (match.ok) return match;
  const names = match.candidates.map((name) => speakableName(name, available));
  const shown = quote(typed.length > 60 ? `${typed.slice(0, 57)}…` : typed);
  if (match.ambiguous) {
    return { ok: false, message: `${capitalize(what)} ${shown} could be ${orList(names)}; say which.` };
  }
  const closest = names.length > 0 ? `; the closest ${names.length > 1 ? 'are' : 'is'} ${andList(names)}` : '';
  const hint =
    names.length > 0
      ? ''
      : `; start typing in the ${what === 'model' ? 'model' : 'lora'} option to see the ones there are`;
  return { ok: false, message: `There is no ${what} called ${shown} for ${workflow.name}${closest}${hint}.` };
}

function quote(text: string): string {
  return `“${text}”`;
}

function orList(names: readonly string[]): string {
  return joinList(names, 'or');
}

function andList(names: readonly string[]): string {
  return joinList(names, 'and');
}

function joinList(names: readonly string[], word: string): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} ${word} ${names[names.length - 1]}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
