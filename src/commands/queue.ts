/**
 * `/queue`: the member's jobs (waiting with their place, running with their server), how each image server is, and
 * with several bot processes, each one's share (numbered, never named: a process's default name carries its host's).
 * Server names only: operators' addresses never reach members.
 */
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import type { ProcessRecord } from '../health/fleet-presence.js';
import { describeProcessesForMembers } from '../health/fleet-view.js';
import { jobsOfMember, type RunnerSnapshot } from '../jobs/snapshot.js';
import { text, type TextKey, type TextParams } from '../i18n/catalog.js';
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
    const content = describeQueue(services.jobs.snapshot(), interaction.user.id, roster, interaction.locale);
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
  },
};

/** The `/queue` text for one member. */
export function describeQueue(
  snapshot: RunnerSnapshot,
  memberId: string,
  roster: readonly ProcessRecord[] = [],
  locale?: string | null,
): string {
  const say = (key: TextKey, params?: TextParams) => text(locale, key, params);
  const mine = jobsOfMember(snapshot, memberId);
  const lines: string[] = [];
  if (mine.active.length === 0 && mine.waiting.length === 0) lines.push(say('queue.none'));
  for (const job of mine.active) {
    const params = {
      id: job.jobId,
      workflow: job.workflow,
      server: `${job.server}${processOf(roster, job.jobId, locale)}`,
    };
    lines.push(say(job.state === 'running' ? 'queue.running' : 'queue.handed', params));
  }
  for (const job of mine.waiting) {
    lines.push(say('queue.waiting', { id: job.jobId, workflow: job.workflow, position: job.position }));
  }
  lines.push('', say('queue.servers', { count: snapshot.waiting.length }));
  for (const server of snapshot.servers) {
    const state = server.health === 'up' ? 'queue.up' : server.health === 'down' ? 'queue.down' : 'queue.checking';
    lines.push(
      say('queue.server', { name: server.name, state: say(state), busy: server.inFlight, capacity: server.capacity }),
    );
  }
  if (snapshot.servers.length === 0) lines.push(say('queue.noServers'));
  const processes = describeProcessesForMembers(roster, locale);
  if (processes.length > 0) lines.push('', ...processes);
  if (snapshot.outage) lines.push('', say('queue.outage'));
  return lines.join('\n');
}

/** `" (process 2)"` when several processes run and one of them reports the job; nothing otherwise. */
function processOf(roster: readonly ProcessRecord[], jobId: string, locale?: string | null): string {
  if (roster.length <= 1) return '';
  const index = roster.findIndex((record) => record.running.some((job) => job.jobId === jobId));
  return index < 0 ? '' : ` ${text(locale, 'queue.process', { number: index + 1 })}`;
}
