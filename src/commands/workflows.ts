/**
 * `/workflows`: the loaded workflows, the settings each accepts and what it outputs; for members who may manage the server, also the
 * disabled workflows with their reasons and where each workflow can run.
 */
import { MessageFlags, PermissionFlagsBits, type ChatInputCommandInteraction } from 'discord.js';
import type { RunnerSnapshot } from '../jobs/snapshot.js';
import {
  acceptedSettings,
  describeOutputs,
  describeSetting,
  type LoadedWorkflows,
  type Workflow,
} from '../workflows/index.js';
import { text } from '../i18n/catalog.js';
import type { CommandContext, SlashCommand } from './command.js';
import { workflowsDefinition } from './definitions.js';

// Discord refuses messages over 2000 characters.
const MESSAGE_LIMIT = 2000;

export const workflows: SlashCommand = {
  definition: workflowsDefinition,
  async execute(interaction: ChatInputCommandInteraction, { services }: CommandContext): Promise<void> {
    const operator = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true;
    const snapshot = operator ? services.jobs.snapshot() : undefined;
    const content = describeWorkflows(services.workflows, snapshot, interaction.locale);
    await interaction.reply({ content: fitMessage(content, interaction.locale), flags: MessageFlags.Ephemeral });
  },
};

/**
 * The `/workflows` text, its frame in the member's language (the settings' own vocabulary stays as typed in flags);
 * with a snapshot, the operator's report too (English, as the operator's log).
 */
export function describeWorkflows(loaded: LoadedWorkflows, snapshot?: RunnerSnapshot, locale?: string | null): string {
  const lines: string[] = [];
  for (const workflow of loaded.list()) {
    const where = snapshot ? ` — runs on ${serversFor(snapshot, workflow.name)}` : '';
    const adult = workflow.nsfw ? `, ${text(locale, 'workflows.adultOnly')}` : '';
    lines.push(`**${workflow.name}** (${workflow.kind}${adult})${where}: ${workflow.description}`);
    lines.push(
      `  ${memberSettings(workflow)
        .map((spec) => describeSetting(spec, locale))
        .join('; ')}`,
    );
    lines.push(`  ${text(locale, 'workflows.outputs', { outputs: describeOutputs(workflow, locale) })}`);
  }
  if (lines.length === 0) lines.push(text(locale, 'workflows.none'));
  if (snapshot) {
    const disabled = loaded.report.filter((entry) => entry.status === 'disabled');
    if (disabled.length > 0) lines.push('', '**Disabled**');
    for (const entry of disabled) lines.push(`• ${entry.name} (${entry.file}): ${entry.reasons.join(' ')}`);
  }
  return lines.join('\n');
}

/** The settings a member can give: width and height only follow the aspect ratio, so they go unsaid beside it. */
function memberSettings(workflow: Workflow) {
  const sized = workflow.settings.aspect !== undefined;
  return acceptedSettings(workflow).filter((spec) => !sized || (spec.name !== 'width' && spec.name !== 'height'));
}

function serversFor(snapshot: RunnerSnapshot, name: string): string {
  const servers = snapshot.servers.filter((server) => server.workflows.includes(name.toLowerCase()));
  return servers.length > 0 ? servers.map((server) => server.name).join(', ') : 'no server right now';
}

/** The answer within Discord's 2,000 characters, saying (in the member's language) where the rest is. */
export function fitMessage(content: string, locale: string | null): string {
  if (content.length <= MESSAGE_LIMIT) return content;
  const more = `\n${text(locale, 'workflows.more')}`;
  return `${content.slice(0, MESSAGE_LIMIT - more.length)}${more}`;
}
