/**
 * The model files members may choose from, for each workflow: what the servers that can run it list for its model
 * and LoRA choices, together. Autocomplete offers these, and a typed name is resolved against them into the exact
 * name a server lists, or refused with the closest few.
 */
import { portableName, portableNames } from './file-spellings.js';
import { resolveModelName, speakableName } from './model-names.js';
import { settleLoras } from './lora-choices.js';
import type { GenerationSettings, LoraChoice } from './settings.js';
import { sentence, type Sentence, type TextKey } from '../i18n/catalog.js';
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
      if (!allowed) return offered;
      // Asked at every keystroke of autocomplete: the manifest's names are made portable once, then looked up.
      const wanted = new Set(allowed.map((choice) => portableName(String(choice))));
      return offered.filter((name) => wanted.has(name));
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
): { ok: true; settings: GenerationSettings } | { ok: false; sentence: Sentence } {
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

// The sentences about a name that fits no file, for a model and for a LoRA.
const SENTENCES = {
  model: {
    none: 'model.noModels',
    ambiguous: 'model.ambiguousModel',
    unknown: 'model.unknownModel',
    closestOne: 'model.unknownModelClosestOne',
    closest: 'model.unknownModelClosest',
  },
  LoRA: {
    none: 'model.noLoras',
    ambiguous: 'model.ambiguousLora',
    unknown: 'model.unknownLora',
    closestOne: 'model.unknownLoraClosestOne',
    closest: 'model.unknownLoraClosest',
  },
} as const satisfies Record<string, Record<string, TextKey>>;

function resolveOne(
  typed: string,
  what: 'model' | 'LoRA',
  workflow: Workflow,
  available: readonly string[] | undefined,
): { ok: true; name: string } | { ok: false; sentence: Sentence } {
  if (available === undefined) return { ok: true, name: typed };
  const said = SENTENCES[what];
  if (available.length === 0) return { ok: false, sentence: sentence(said.none, { workflow: workflow.name }) };
  const match = resolveModelName(typed, available);
  if (match.ok) return match;
  const names = match.candidates.map((name) => speakableName(name, available));
  const name = `“${typed.length > 60 ? `${typed.slice(0, 57)}…` : typed}”`;
  const params = { name, workflow: workflow.name, names: names.join(', ') };
  if (match.ambiguous) return { ok: false, sentence: sentence(said.ambiguous, params) };
  if (names.length === 0) return { ok: false, sentence: sentence(said.unknown, params) };
  return { ok: false, sentence: sentence(names.length > 1 ? said.closest : said.closestOne, params) };
}
