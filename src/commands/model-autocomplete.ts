/**
 * Autocomplete of the `model` and `lora` options: the files some server that can run the member's workflow lists,
 * filtered by what they typed, 25 at most (Discord's limit), each name and value within 100 characters. A LoRA typed
 * with a weight (`det:0.6`) keeps its weight in every choice.
 */
import type { ApplicationCommandOptionChoiceData, AutocompleteInteraction } from 'discord.js';
import { planContext } from '../discord/plan-context.js';
import { workflowFor } from '../workflows/generation-plan.js';
import type { BotServices } from '../discord/services.js';
import { parseFlags } from '../workflows/flags.js';
import type { ModelCatalogue, ModelKind } from '../workflows/model-catalogue.js';
import { choiceLabel, choiceValue, rankModels } from '../workflows/model-names.js';
import type { Workflow } from '../workflows/workflow.js';

type Choice = ApplicationCommandOptionChoiceData<string>;

/** The option names whose autocomplete this module answers. */
export const MODEL_OPTIONS: Readonly<Record<string, ModelKind>> = { model: 'checkpoints', lora: 'loras' };

/** Up to 25 files of `kind` that match what was typed, offered for `workflow`. */
export function suggestModels(
  catalogue: ModelCatalogue,
  workflow: Workflow | undefined,
  kind: ModelKind,
  typed: string,
): Choice[] {
  if (!workflow) return [];
  const weight = kind === 'loras' ? /:([+-]?(?:\d+(?:\.\d*)?|\.\d+)?)$/.exec(typed) : null;
  const text = weight ? typed.slice(0, weight.index) : typed;
  const suffix = weight ? `:${weight[1]}` : '';
  const names = rankModels(text, catalogue.choices(workflow, kind) ?? []);
  return names.map((name) => ({
    name: choiceLabel(name, suffix && suffix !== ':' ? ` (weight ${suffix.slice(1)})` : ''),
    value: choiceValue(name, suffix === ':' ? '' : suffix),
  }));
}

/** The workflow an `/imagine` being typed will run: its `workflow` option or `--wf` flag, else the member's default. */
export async function workflowBeingTyped(
  interaction: AutocompleteInteraction,
  services: BotServices,
): Promise<Workflow | undefined> {
  const prompt = interaction.options.getString('prompt') ?? '';
  const flags = parseFlags(prompt);
  const named = interaction.options.getString('workflow') ?? (flags.ok ? flags.settings.workflow : undefined);
  const defaults = await services.sessions.getMemberDefaults(interaction.user.id);
  const hasImage = interaction.options.data.some((option) => option.name === 'image');
  return workflowFor(named, defaults, hasImage, planContext(services, interaction.channel));
}
