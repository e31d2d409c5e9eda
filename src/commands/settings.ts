/**
 * `/settings`: shows the member's defaults for `/imagine` (workflow, aspect, negative prompt, count), changes the
 * ones given, or forgets them all with `reset`. They apply under whatever a command or flag says, and the card lists
 * the defaults it used.
 */
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { UserFacingError } from '../errors.js';
import type { MemberDefaults } from '../sessions/index.js';
import type { CommandContext, SlashCommand } from './command.js';
import { settingsDefinition } from './definitions.js';
import { suggestWorkflows, workflowsOfferedIn } from './workflow-autocomplete.js';

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
      throw new UserFacingError(
        'unknown-workflow',
        `There is no workflow called ${change.workflow}; choose one of: ${names}.`,
      );
    }
    const reset = interaction.options.getBoolean('reset') === true;
    const current = reset ? {} : await services.sessions.getMemberDefaults(memberId);
    const next: MemberDefaults = { ...current, ...change, ...(workflow ? { workflow: workflow.name } : {}) };
    if (reset || Object.keys(change).length > 0) await services.sessions.setMemberDefaults(memberId, next);
    await interaction.editReply(describeDefaults(next, reset || Object.keys(change).length > 0));
  },

  async autocomplete(interaction, { services }) {
    const offered = workflowsOfferedIn(services.workflows.list(), interaction.channel);
    await interaction.respond(suggestWorkflows(offered, interaction.options.getFocused()));
  },
};

/** The `/settings` answer. */
export function describeDefaults(defaults: MemberDefaults, changed: boolean): string {
  const entries = Object.entries(defaults).filter(([, value]) => value !== undefined);
  const head = changed ? 'Saved. Your defaults for /imagine:' : 'Your defaults for /imagine:';
  if (entries.length === 0)
    return `${changed ? 'Saved. ' : ''}You have no defaults; /imagine uses each workflow's own.`;
  return [head, ...entries.map(([key, value]) => `• ${key}: ${String(value)}`)].join('\n');
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
  return change;
}
