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
import { text, type TextKey } from '../i18n/catalog.js';

export const history: SlashCommand = {
  definition: historyDefinition,
  async execute(interaction: ChatInputCommandInteraction, { services }: CommandContext): Promise<void> {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const member = interaction.options.getUser('member') ?? interaction.user;
    const viewer = viewerOf(interaction);
    await interaction.editReply(await historyMessage(services.sessions, member.id, 1, viewer, interaction.locale));
  },
};

/** A history paging button: shows the page its id names. */
export async function showHistoryPage(
  interaction: ButtonInteraction,
  sessions: Sessions,
  memberId: string,
  page: number,
) {
  await interaction.update(await historyMessage(sessions, memberId, page, viewerOf(interaction), interaction.locale));
}

async function historyMessage(
  sessions: Sessions,
  memberId: string,
  page: number,
  viewer: ChannelViewer,
  locale: string | null,
) {
  const found = await sessions.listHistory(memberId, Math.max(1, page));
  const own = viewer.id === memberId;
  const shown = own ? found : { ...found, generations: await readableBy(viewer, found.generations, sessions) };
  const hidden = found.generations.length - shown.generations.length;
  const content = hidden > 0 ? text(locale, hidden > 1 ? 'history.hiddenMany' : 'history.hiddenOne', { hidden }) : '';
  return { content, embeds: [historyEmbed(shown, memberId, locale)], components: pager(found, memberId, locale) };
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

function historyEmbed(page: HistoryPage, memberId: string, locale: string | null): APIEmbed {
  const member = `<@${memberId}>`;
  if (page.total === 0) return { description: text(locale, 'history.empty', { member }) };
  return {
    title: text(locale, page.total === 1 ? 'history.titleOne' : 'history.titleMany', { total: page.total }),
    description: text(locale, 'history.page', { member, page: page.page, pages: page.pageCount }),
    fields: page.generations.map((generation) => historyField(generation, locale)),
  };
}

const OUTCOMES: Readonly<Record<string, TextKey>> = { failed: 'history.failed', cancelled: 'history.cancelled' };

function historyField(generation: Generation, locale: string | null) {
  const prompt = generation.settings.prompt || text(locale, 'history.noPrompt');
  const { seed: seedValue } = generation.settings;
  const seed = seedValue === undefined ? '' : ` · ${text(locale, 'history.seed', { seed: seedValue })}`;
  const status = generation.outcome.status;
  const outcomeKey = OUTCOMES[status];
  const outcome = status === 'succeeded' ? '' : ` · ${outcomeKey ? text(locale, outcomeKey) : status}`;
  const when = `<t:${Math.floor(generation.createdAt / 1000)}:R>`;
  const link = jumpLink(generation);
  const jump = link ? ` · [${text(locale, 'history.jump')}](${link})` : '';
  return {
    name: truncate(prompt, 240),
    value: `${generation.workflow}${seed}${outcome} · ${when}${jump}`,
    inline: false,
  };
}

function jumpLink(generation: Generation): string | undefined {
  if (generation.messageId === undefined || generation.channelId === undefined) return undefined;
  return `https://discord.com/channels/${generation.guildId ?? '@me'}/${generation.channelId}/${generation.messageId}`;
}

function pager(
  page: HistoryPage,
  memberId: string,
  locale: string | null,
): APIActionRowComponent<APIButtonComponent>[] {
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
        button(text(locale, 'history.newer'), page.page - 1, page.page <= 1),
        button(text(locale, 'history.older'), page.page + 1, page.page >= page.pageCount),
      ],
    },
  ];
}
