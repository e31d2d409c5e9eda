/**
 * `/queue`: the member's jobs (waiting with their place, running with their server), how each image server is, and
 * with several bot processes, each one's share (numbered, never named: a process's default name carries its host's).
 * Server names only: operators' addresses never reach members.
 */
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import type { ProcessRecord } from '../health/fleet-presence.js';
import { describeProcessesForMembers } from '../health/fleet-view.js';
import { jobsOfMember, type RunnerSnapshot } from '../jobs/snapshot.js';
import type { CommandContext, SlashCommand } from './command.js';
import { queueDefinition } from './definitions.js';

export const queue: SlashCommand = {
  definition: queueDefinition,
  async execute(interaction: ChatInputCommandInteraction, { services, logger }: CommandContext): Promise<void> {
    // The member's own jobs matter more than the fleet's line: a roll call the store cannot give is left out.
    const roster = await services.fleet.roster().catch((error: unknown) => {
      logger.warn({ err: error }, 'could not read the fleet roll call for /queue');
      return [];
    });
    const text = describeQueue(services.jobs.snapshot(), interaction.user.id, roster);
    await interaction.reply({ content: text, flags: MessageFlags.Ephemeral });
  },
};

/** The `/queue` text for one member. */
export function describeQueue(
  snapshot: RunnerSnapshot,
  memberId: string,
  roster: readonly ProcessRecord[] = [],
): string {
  const mine = jobsOfMember(snapshot, memberId);
  const lines: string[] = [];
  if (mine.active.length === 0 && mine.waiting.length === 0) lines.push('You have no images in progress.');
  for (const job of mine.active) {
    const where = `${job.server}${processOf(roster, job.jobId)}`;
    lines.push(`• \`${job.jobId}\` ${job.workflow}: ${job.state === 'running' ? 'running' : 'handed to'} on ${where}`);
  }
  for (const job of mine.waiting) lines.push(`• \`${job.jobId}\` ${job.workflow}: waiting, position ${job.position}`);
  lines.push('', `Waiting in all: ${snapshot.waiting.length}. Servers:`);
  for (const server of snapshot.servers) {
    const state = server.health === 'up' ? 'up' : server.health === 'down' ? 'down' : 'checking';
    lines.push(`• ${server.name}: ${state}, ${server.inFlight}/${server.capacity} busy`);
  }
  if (snapshot.servers.length === 0) lines.push('• none configured');
  const processes = describeProcessesForMembers(roster);
  if (processes.length > 0) lines.push('', ...processes);
  if (snapshot.outage) lines.push('', 'Every image server is down; new images are refused until one is back.');
  return lines.join('\n');
}

/** `" (process 2)"` when several processes run and one of them reports the job; nothing otherwise. */
function processOf(roster: readonly ProcessRecord[], jobId: string): string {
  if (roster.length <= 1) return '';
  const index = roster.findIndex((record) => record.running.some((job) => job.jobId === jobId));
  return index < 0 ? '' : ` (process ${index + 1})`;
}
