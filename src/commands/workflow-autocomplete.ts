/**
 * Autocomplete over the loaded workflows, shared by `/imagine` and `/settings`.
 */
import type { ApplicationCommandOptionChoiceData, Channel } from 'discord.js';
import { isAgeRestricted } from '../discord/access.js';
import type { Workflow } from '../workflows/index.js';
import { truncate } from '../text.js';

/** The workflows offered in `channel`: adult (`nsfw`) ones only where the channel is age-restricted. */
export function workflowsOfferedIn(workflows: readonly Workflow[], channel: Channel | null): Workflow[] {
  const adultAllowed = isAgeRestricted(channel);
  return workflows.filter((workflow) => !workflow.nsfw || adultAllowed);
}

/** Up to 25 workflows whose name or description matches what the member typed, names first. */
export function suggestWorkflows(
  workflows: readonly Workflow[],
  typed: string,
): ApplicationCommandOptionChoiceData<string>[] {
  const needle = typed.trim().toLowerCase();
  const byName = workflows.filter((workflow) => workflow.name.toLowerCase().includes(needle));
  const byDescription = workflows.filter(
    (workflow) => !byName.includes(workflow) && workflow.description.toLowerCase().includes(needle),
  );
  return [...byName, ...byDescription].slice(0, 25).map((workflow) => ({
    name: truncate(workflow.description ? `${workflow.name} — ${workflow.description}` : workflow.name, 100),
    value: workflow.name,
  }));
}
