/**
 * Tells the connected bot about changes, as Discord's Gateway does: each event only to sessions with the intent it
 * needs, and message content blanked for sessions without the MessageContent intent (except DMs, the bot's own
 * messages and messages that mention it).
 */
import { ChannelType, GatewayIntentBits, MessageFlags } from 'discord.js';
import type { FakeGateway } from './gateway.js';
import { botIsIn } from './installation.js';
import type { GatewaySession } from './gateway-session.js';
import type { FakeChannel, FakeGuild, FakeMessage } from './model.js';
import { serializeChannel, serializeMessage } from './serialize.js';
import type { FakeState } from './state.js';

/** Sends Gateway events built from the fake's state. */
export class Announcer {
  constructor(
    private readonly state: FakeState,
    private readonly gateway: FakeGateway,
    private readonly botUserId: string,
    private readonly guildCreatePayload: (guild: FakeGuild) => unknown,
  ) {}

  messageCreate(message: FakeMessage): void {
    this.message('MESSAGE_CREATE', message);
  }

  messageUpdate(message: FakeMessage): void {
    this.message('MESSAGE_UPDATE', message);
  }

  messageDelete(message: FakeMessage): void {
    if (this.isEphemeral(message) || !this.botSees(message.channelId)) return;
    const data = { id: message.id, channel_id: message.channelId, ...guildField(message.guildId) };
    this.gateway.dispatch('MESSAGE_DELETE', message.guildId, (session) =>
      session.has(messageIntent(message)) ? data : null,
    );
  }

  channelCreate(channel: FakeChannel): void {
    this.channel(channel.thread ? 'THREAD_CREATE' : 'CHANNEL_CREATE', channel, { newly_created: true });
  }

  channelUpdate(channel: FakeChannel): void {
    this.channel(channel.thread ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', channel);
  }

  channelDelete(channel: FakeChannel): void {
    this.channel(channel.thread ? 'THREAD_DELETE' : 'CHANNEL_DELETE', channel);
  }

  guildCreate(guild: FakeGuild): void {
    this.gateway.dispatch('GUILD_CREATE', guild.id, (session) =>
      session.has(GatewayIntentBits.Guilds) ? this.guildCreatePayload(guild) : null,
    );
  }

  /** Any other event, to sessions with `intent`. */
  raw(event: string, guildId: string | null, intent: number, data: unknown): void {
    this.gateway.dispatch(event, guildId, (session) => (session.has(intent) ? data : null));
  }

  /** Runs `send`; the events it announces reach each bot in one write. */
  together(send: () => void): void {
    this.gateway.together(send);
  }

  /** INTERACTION_CREATE goes to every session, whatever its intents; returns how many connected ones got it. */
  interactionCreate(payload: Record<string, unknown>, guildId: string | null): number {
    return this.gateway.dispatch('INTERACTION_CREATE', guildId, () => payload);
  }

  private message(event: string, message: FakeMessage): void {
    if (this.isEphemeral(message) || !this.botSees(message.channelId)) return;
    this.gateway.dispatch(event, message.guildId, (session) => {
      if (!session.has(messageIntent(message))) return null;
      return serializeMessage(this.state, message, {
        forGateway: true,
        withContent: this.mayReadContent(session, message),
      });
    });
  }

  private channel(event: string, channel: FakeChannel, extra: Record<string, unknown> = {}): void {
    if (channel.type === ChannelType.DM || !this.botSees(channel.id)) return;
    const data = { ...serializeChannel(this.state, channel), ...(channel.thread ? extra : {}) };
    this.gateway.dispatch(event, channel.guildId, (session) => (session.has(GatewayIntentBits.Guilds) ? data : null));
  }

  /** Discord tells a bot only about the guilds it is in and its own DMs (user installs bring no events). */
  private botSees(channelId: string): boolean {
    const channel = this.state.channels.get(channelId);
    return channel !== undefined && botIsIn(this.state, channel, this.botUserId);
  }

  private mayReadContent(session: GatewaySession, message: FakeMessage): boolean {
    return (
      session.has(GatewayIntentBits.MessageContent) ||
      message.guildId === null ||
      message.authorId === this.botUserId ||
      message.mentionUserIds.includes(this.botUserId)
    );
  }

  private isEphemeral(message: FakeMessage): boolean {
    return (message.flags & MessageFlags.Ephemeral) !== 0;
  }
}

function messageIntent(message: FakeMessage): number {
  return message.guildId ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages;
}

function guildField(guildId: string | null) {
  return guildId ? { guild_id: guildId } : {};
}
