/**
 * The records the fake keeps: plain mutable objects owned by `FakeState`. Tests read them (and pass them back to the
 * member actions); they change them only through `FakeDiscord` methods, which also tell the connected bot.
 */
import type { ChannelType, MessageType } from 'discord.js';

/** A Discord account: the bot itself or a member a test acts as. */
export interface FakeUser {
  readonly id: string;
  username: string;
  globalName: string | null;
  readonly bot: boolean;
  /** The language the user chose in Discord, sent as an interaction's `locale` (Discord's codes: `en-US`, `de`...). */
  locale: string;
}

/** A guild role; the @everyone role has the guild's id. */
export interface FakeRole {
  readonly id: string;
  readonly guildId: string;
  name: string;
  permissions: bigint;
  position: number;
  /** True for the role Discord gives a bot when it joins (it cannot be assigned to anyone else). */
  managed: boolean;
}

/** A guild (server). */
export interface FakeGuild {
  readonly id: string;
  name: string;
  ownerId: string;
  /** Largest attachment accepted, in bytes (Discord: 10 MiB, more for boosted guilds). */
  attachmentSizeLimit: number;
  readonly createdAt: number;
}

/** A user's membership of a guild. */
export interface FakeMember {
  readonly guildId: string;
  readonly userId: string;
  roleIds: string[];
  nick: string | null;
  readonly joinedAt: number;
}

/** A channel permission overwrite: type 0 for a role, 1 for a member. */
export interface FakeOverwrite {
  readonly id: string;
  readonly type: 0 | 1;
  allow: bigint;
  deny: bigint;
}

/** Thread state (archived threads stay readable but take no messages). */
export interface FakeThreadState {
  archived: boolean;
  locked: boolean;
  autoArchiveDuration: 60 | 1440 | 4320 | 10080;
  archivedAt: number;
  readonly createdAt: number;
}

/** A text channel, thread or DM. */
export interface FakeChannel {
  readonly id: string;
  readonly type: ChannelType;
  readonly guildId: string | null;
  name: string | null;
  nsfw: boolean;
  topic: string | null;
  /** The text channel a thread belongs to. */
  readonly parentId: string | null;
  position: number;
  overwrites: FakeOverwrite[];
  /** DM recipients other than the bot. */
  readonly recipientIds: string[];
  /** Who started a thread. */
  readonly ownerId: string | null;
  readonly thread: FakeThreadState | null;
  lastMessageId: string | null;
  messageCount: number;
  rateLimitPerUser: number;
  readonly createdAt: number;
}

/** An uploaded file, kept with its bytes and served back at `url`. */
export interface FakeAttachment {
  readonly id: string;
  readonly filename: string;
  readonly contentType: string | null;
  readonly data: Buffer;
  readonly url: string;
  readonly description: string | null;
  readonly title: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly ephemeral: boolean;
}

/** What a message replies to. */
export interface FakeMessageReference {
  readonly messageId: string;
  readonly channelId: string;
  readonly guildId: string | null;
}

/** The interaction that produced a response message (`interaction_metadata`). */
export interface FakeInteractionOrigin {
  readonly interactionId: string;
  readonly interactionType: number;
  readonly commandName: string | null;
  readonly userId: string;
  readonly guildId: string | null;
  /** The installations that authorised it (`authorizing_integration_owners`). */
  readonly authorizingOwners: Readonly<Record<string, string>>;
  /** For a component interaction: the message whose component was used. */
  readonly interactedMessageId: string | null;
}

/** A message in its current state (edits applied). */
export interface FakeMessage {
  readonly id: string;
  readonly channelId: string;
  readonly guildId: string | null;
  readonly authorId: string;
  /** Set on interaction responses and followups (the application id), as Discord does. */
  readonly webhookId: string | null;
  readonly type: MessageType;
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: FakeAttachment[];
  flags: number;
  readonly createdAt: number;
  editedAt: number | null;
  readonly reference: FakeMessageReference | null;
  mentionUserIds: string[];
  mentionRoleIds: string[];
  mentionEveryone: boolean;
  readonly interaction: FakeInteractionOrigin | null;
  /** The thread started from this message. */
  threadId: string | null;
  /** Position in a thread (0 for the first message). */
  readonly position: number | null;
  readonly tts: boolean;
  readonly nonce: string | number | null;
  pinned: boolean;
  deleted: boolean;
  /** Emoji names the bot reacted with. */
  reactions: string[];
}
