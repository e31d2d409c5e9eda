/**
 * `/history [member]`: the last generations with prompt, seed, workflow, time and a jump link, ten a page, paged with
 * buttons whose ids carry the member and the page (so paging works on old messages and after a restart). Another
 * member's history shows only what the viewer could see in Discord.
 */
import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Guild,
  type GuildBasedChannel,
} from 'discord.js';
import { canRead, viewerOf, type ChannelViewer } from '../discord/channel-visibility.js';
import type { Generation, HistoryPage, Sessions } from '../sessions/index.js';
import type { CommandContext, SlashCommand } from './command.js';
import { historyDefinition } from './definitions.js';
import { truncate } from '../text.js';

export const history: SlashCommand = {
  definition: historyDefinition,
  async execute(interaction: ChatInputCommandInteraction, { services }: CommandContext): Promise<void> {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const member = interaction.options.getUser('member') ?? interaction.user;
    await interaction.editReply(await historyMessage(services.sessions, member.id, 1, viewerOf(interaction)));
  },
};

/** A history paging button: shows the page its id names. */
export async function showHistoryPage(
  interaction: ButtonInteraction,
  sessions: Sessions,
  memberId: string,
  page: number,
) {
  await interaction.update(await historyMessage(sessions, memberId, page, viewerOf(interaction)));
}

async function historyMessage(sessions: Sessions, memberId: string, page: number, viewer: ChannelViewer) {
  const found = await sessions.listHistory(memberId, Math.max(1, page));
  const own = viewer.id === memberId;
  const shown = own ? found : { ...found, generations: await readableBy(viewer, found.generations, sessions) };
  const hidden = found.generations.length - shown.generations.length;
  const content =
    hidden > 0
      ? `${hidden} generation${hidden > 1 ? 's' : ''} made elsewhere ${hidden > 1 ? 'are' : 'is'} not shown.`
      : '';
  return { content, embeds: [historyEmbed(shown, memberId)], components: pager(found, memberId) };
}

/**
 * Another member's generations that the viewer could read in Discord itself: made in this server, in a channel the
 * viewer may read (age-restricted ones only from an age-restricted channel). DMs and other servers are never shown.
 */
async function readableBy(
  viewer: ChannelViewer,
  generations: readonly Generation[],
  sessions: Sessions,
): Promise<Generation[]> {
  const readable = await Promise.all(
    generations.map(async (generation) => canRead(viewer, await placeOf(generation, viewer.guild, sessions))),
  );
  return generations.filter((_, index) => readable[index]);
}

/** The channel a generation was posted in, as the guild's cache knows it. */
async function placeOf(
  generation: Generation,
  guild: Guild | null,
  sessions: Sessions,
): Promise<GuildBasedChannel | undefined> {
  if (!guild || generation.guildId !== guild.id || generation.channelId === undefined) return undefined;
  const cached = guild.channels.cache.get(generation.channelId);
  if (cached) return cached;
  // An archived session thread leaves discord.js's cache; its session remembers the parent channel. Session threads
  // are public threads started on a result, readable by whoever may read their parent.
  const session = await sessions.getSessionByThread(generation.channelId);
  return session ? guild.channels.cache.get(session.channelId) : undefined;
}

function historyEmbed(page: HistoryPage, memberId: string): APIEmbed {
  if (page.total === 0) return { description: `<@${memberId}> has no generations yet.` };
  return {
    title: `Generations of ${page.total === 1 ? 'one picture' : `${page.total} pictures`}`,
    description: `<@${memberId}>, page ${page.page} of ${page.pageCount}`,
    fields: page.generations.map(historyField),
  };
}

function historyField(generation: Generation) {
  const prompt = generation.settings.prompt || '(no prompt)';
  const seed = generation.settings.seed === undefined ? '' : ` · seed ${generation.settings.seed}`;
  const outcome = generation.outcome.status === 'succeeded' ? '' : ` · ${generation.outcome.status}`;
  const when = `<t:${Math.floor(generation.createdAt / 1000)}:R>`;
  const link = jumpLink(generation);
  return {
    name: truncate(prompt, 240),
    value: `${generation.workflow}${seed}${outcome} · ${when}${link ? ` · [jump](${link})` : ''}`,
    inline: false,
  };
}

function jumpLink(generation: Generation): string | undefined {
  if (generation.messageId === undefined || generation.channelId === undefined) return undefined;
  return `https://discord.com/channels/${generation.guildId ?? '@me'}/${generation.channelId}/${generation.messageId}`;
}

function pager(page: HistoryPage, memberId: string): APIActionRowComponent<APIButtonComponent>[] {
  if (page.pageCount <= 1) return [];
  const button = (label: string, target: number, disabled: boolean): APIButtonComponent => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label,
    custom_id: `history:${memberId}:${target}`,
    disabled,
  });
  return [
    {
      type: ComponentType.ActionRow,
      components: [
        button('Newer', page.page - 1, page.page <= 1),
        button('Older', page.page + 1, page.page >= page.pageCount),
      ],
    },
  ];
}
