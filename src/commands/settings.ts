/**
 * `/settings`: shows the member's defaults for `/imagine` (workflow, aspect, negative prompt, count), changes the
 * ones given, or forgets them all with `reset`. They apply under whatever a command or flag says, and the card lists
 * the defaults it used.
 */
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { UserFacingError } from '../errors.js';
import { sentence, text, type TextKey } from '../i18n/catalog.js';
import type { MemberDefaults } from '../sessions/index.js';
import type { CommandContext, SlashCommand } from './command.js';
import { settingsDefinition } from './definitions.js';
import { suggestWorkflows, workflowsOfferedIn } from './workflow-autocomplete.js';
import { choiceLabel, choiceValue, rankModels, resolveModelName, speakableName } from '../workflows/model-names.js';
import type { Workflow } from '../workflows/workflow.js';
import type { BotServices } from '../discord/services.js';

// What clears the default model, so that each workflow's own runs again.
const NO_MODEL = 'none';

export const settings: SlashCommand = {
  definition: settingsDefinition,

  async execute(interaction: ChatInputCommandInteraction, { services }: CommandContext): Promise<void> {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const memberId = interaction.user.id;
    const change = readChange(interaction);
    const workflow = change.workflow === undefined ? undefined : services.workflows.get(change.workflow);
    if (change.workflow !== undefined && !workflow) {
      const names = services.workflows
        .list()
        .map((candidate) => candidate.name)
        .join(', ');
      throw new UserFacingError('unknown-workflow', sentence('plan.unknownWorkflow', { name: change.workflow, names }));
    }
    const reset = interaction.options.getBoolean('reset') === true;
    const current = reset ? {} : await services.sessions.getMemberDefaults(memberId);
    if (change.checkpoint !== undefined) {
      change.checkpoint = resolveDefaultModel(change.checkpoint, services, workflow ?? named(current, services));
    }
    const next: MemberDefaults = { ...current, ...change, ...(workflow ? { workflow: workflow.name } : {}) };
    if (reset || Object.keys(change).length > 0) await services.sessions.setMemberDefaults(memberId, next);
    await interaction.editReply(describeDefaults(next, reset || Object.keys(change).length > 0, interaction.locale));
  },

  async autocomplete(interaction, { services }) {
    const focused = interaction.options.getFocused(true);
    if (focused.name === 'model') {
      const chosen = interaction.options.getString('workflow');
      const current = await services.sessions.getMemberDefaults(interaction.user.id);
      const workflow = (chosen === null ? undefined : services.workflows.get(chosen)) ?? named(current, services);
      const names = rankModels(focused.value, offeredModels(services, workflow), 24);
      const none = { name: text(interaction.locale, 'settings.noModelChoice'), value: NO_MODEL };
      const choices = names.map((name) => ({ name: choiceLabel(name), value: choiceValue(name) }));
      return interaction.respond(focused.value.trim() === '' ? [none, ...choices] : choices);
    }
    const offered = workflowsOfferedIn(services.workflows.list(), interaction.channel);
    await interaction.respond(suggestWorkflows(offered, focused.value));
  },
};

function named(defaults: MemberDefaults, services: BotServices): Workflow | undefined {
  return defaults.workflow === undefined ? undefined : services.workflows.get(defaults.workflow);
}

/** The models of one workflow, or of every workflow that takes a model choice. */
function offeredModels(services: BotServices, workflow: Workflow | undefined): string[] {
  const workflows = workflow ? [workflow] : services.workflows.list();
  return [...new Set(workflows.flatMap((each) => services.models.choices(each, 'checkpoints') ?? []))];
}

/** The model as a server lists it, undefined for "none", or a sentence with the closest names. */
function resolveDefaultModel(typed: string, services: BotServices, workflow: Workflow | undefined): string | undefined {
  if (typed.trim().toLowerCase() === NO_MODEL || typed.trim() === '-') return undefined;
  const available = offeredModels(services, workflow);
  // Before any server has been checked there is nothing to check against; the name is used where it exists.
  if (available.length === 0) return typed.trim();
  const match = resolveModelName(typed, available);
  if (match.ok) return match.name;
  const names = match.candidates.map((name) => speakableName(name, available)).join(', ');
  const shown = typed.length > 60 ? `${typed.slice(0, 57)}…` : typed;
  const said = [sentence('settings.unknownModel', { name: shown })];
  if (names !== '') said.push(sentence(match.ambiguous ? 'settings.couldBe' : 'settings.closestAre', { names }));
  throw new UserFacingError('unknown-model', said);
}

// The names of the defaults as the member's /settings options call them.
const DEFAULT_NAMES: Readonly<Record<string, TextKey>> = {
  workflow: 'settings.name.workflow',
  aspect: 'settings.name.aspect',
  negative: 'settings.name.negative',
  count: 'settings.name.count',
  checkpoint: 'settings.name.model',
};

/** The `/settings` answer, in the member's language. */
export function describeDefaults(defaults: MemberDefaults, changed: boolean, locale?: string | null): string {
  const entries = Object.entries(defaults).filter(([, value]) => value !== undefined);
  const saved = changed ? `${text(locale, 'settings.saved')} ` : '';
  if (entries.length === 0) return `${saved}${text(locale, 'settings.none')}`;
  const line = ([key, value]: [string, unknown]) => {
    const name = DEFAULT_NAMES[key] ? text(locale, DEFAULT_NAMES[key]) : key;
    return `• ${name}: ${String(value)}`;
  };
  return [`${saved}${text(locale, 'settings.yours')}`, ...entries.map(line)].join('\n');
}

function readChange(interaction: ChatInputCommandInteraction): MemberDefaults {
  const change: MemberDefaults = {};
  const workflow = interaction.options.getString('workflow');
  const aspect = interaction.options.getString('aspect');
  const negative = interaction.options.getString('negative');
  const count = interaction.options.getInteger('count');
  if (workflow !== null) change.workflow = workflow;
  if (aspect !== null) change.aspect = aspect;
  if (negative !== null) change.negative = negative;
  if (count !== null) change.count = count;
  const model = interaction.options.getString('model');
  if (model !== null) change.checkpoint = model;
  return change;
}
