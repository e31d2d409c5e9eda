/**
 * What the REST routes share: the state, the Gateway announcer, the interaction and command registries, and the
 * permission checks Discord applies to bot-token calls.
 */
import { PermissionFlagsBits } from 'discord.js';
import type { Announcer } from './announcer.js';
import type { ChangeSignal } from './change-signal.js';
import type { CommandRegistry } from './command-registry.js';
import type { GatewayBotInfo } from './gateway-sharding.js';
import type { InteractionRegistry } from './interaction-registry.js';
import type { WriterContext } from './message-writer.js';
import type { FakeChannel, FakeMessage, FakeUser } from './model.js';
import { errors } from './rest-types.js';
import type { FakeState } from './state.js';

/** The fake application. */
export interface FakeApplication {
  readonly id: string;
  readonly name: string;
  readonly flags: number;
}

/** Shared by every route. */
export interface FakeContext extends WriterContext {
  readonly state: FakeState;
  readonly announce: Announcer;
  readonly interactions: InteractionRegistry;
  readonly commands: CommandRegistry;
  readonly signal: ChangeSignal;
  readonly botUser: FakeUser;
  readonly application: FakeApplication;
  /** `ws://127.0.0.1:PORT/gateway`. */
  gatewayUrl(): string;
  /** `/gateway/bot`'s recommended shard count and session start limit. */
  gatewayBot(): GatewayBotInfo;
}

/** The channel, or Discord's 404 10003. */
export function findChannel(ctx: FakeContext, channelId: string): FakeChannel {
  const channel = ctx.state.channels.get(channelId);
  if (!channel) throw errors.unknownChannel();
  return channel;
}

/** A non-ephemeral message of the channel, or Discord's 404 10008. */
export function findChannelMessage(ctx: FakeContext, channel: FakeChannel, messageId: string): FakeMessage {
  const message = ctx.state.messages.get(messageId);
  const ephemeral = message ? (message.flags & 64) !== 0 : false;
  if (!message || message.deleted || ephemeral || message.channelId !== channel.id) throw errors.unknownMessage();
  return message;
}

/** Throws 50001 when the bot cannot see the channel and 50013 when it lacks any of `needed`. */
export function requireBotPermissions(ctx: FakeContext, channel: FakeChannel, needed: bigint): void {
  const granted = ctx.state.permissionsIn(ctx.botUser.id, channel);
  if ((granted & PermissionFlagsBits.ViewChannel) === 0n) throw errors.missingAccess();
  if ((granted & needed) !== needed) throw errors.missingPermissions();
}

/** The permission that lets the bot post in a channel (threads have their own). */
export function sendPermission(channel: FakeChannel): bigint {
  return channel.thread ? PermissionFlagsBits.SendMessagesInThreads : PermissionFlagsBits.SendMessages;
}

/** Posting in an archived thread unarchives it, as on Discord; a locked one refuses. */
export function reopenThreadForPosting(ctx: FakeContext, channel: FakeChannel): void {
  if (!channel.thread?.archived) return;
  if (channel.thread.locked) throw errors.threadArchived();
  channel.thread.archived = false;
  channel.thread.archivedAt = Date.now();
  ctx.announce.channelUpdate(channel);
}
