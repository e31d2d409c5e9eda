/**
 * `/queue`: the member's jobs (waiting with their place, running with their server) and how each image server is.
 * Server names only: operators' addresses never reach members.
 */
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { jobsOfMember, type RunnerSnapshot } from '../jobs/snapshot.js';
import type { CommandContext, SlashCommand } from './command.js';
import { queueDefinition } from './definitions.js';

export const queue: SlashCommand = {
  definition: queueDefinition,
  async execute(interaction: ChatInputCommandInteraction, { services }: CommandContext): Promise<void> {
    const text = describeQueue(services.jobs.snapshot(), interaction.user.id);
    await interaction.reply({ content: text, flags: MessageFlags.Ephemeral });
  },
};

/** The `/queue` text for one member. */
export function describeQueue(snapshot: RunnerSnapshot, memberId: string): string {
  const mine = jobsOfMember(snapshot, memberId);
  const lines: string[] = [];
  if (mine.active.length === 0 && mine.waiting.length === 0) lines.push('You have no images in progress.');
  for (const job of mine.active) {
    lines.push(
      `• \`${job.jobId}\` ${job.workflow}: ${job.state === 'running' ? 'running' : 'handed to'} on ${job.server}`,
    );
  }
  for (const job of mine.waiting) lines.push(`• \`${job.jobId}\` ${job.workflow}: waiting, position ${job.position}`);
  lines.push('', `Waiting in all: ${snapshot.waiting.length}. Servers:`);
  for (const server of snapshot.servers) {
    const state = server.health === 'up' ? 'up' : server.health === 'down' ? 'down' : 'checking';
    lines.push(`• ${server.name}: ${state}, ${server.inFlight}/${server.capacity} busy`);
  }
  if (snapshot.servers.length === 0) lines.push('• none configured');
  if (snapshot.outage) lines.push('', 'Every image server is down; new images are refused until one is back.');
  return lines.join('\n');
}
