/**
 * Creates and edits messages from the bodies the bot sends, with Discord's semantics: files become attachments
 * (`attachments[]` entries refer to `files[N]` by index, or keep existing attachments by id), an edit replaces only
 * the fields it carries, mentions follow `allowed_mentions`, and an empty message is refused.
 */
import { MessageFlags, MessageType } from 'discord.js';
import sharp from 'sharp';
import type { RecordedFile } from './call-log.js';
import { attachmentReferenceProblems, legacyFieldProblems, textDisplaysOf } from './components-v2.js';
import { IS_COMPONENTS_V2, type MessageBody } from './message-body.js';
import type { FakeAttachment, FakeChannel, FakeInteractionOrigin, FakeMessage } from './model.js';
import { errors } from './rest-types.js';
import type { FakeState } from './state.js';

/** What message writing needs from the fake. */
export interface WriterContext {
  readonly state: FakeState;
  /** The public URL of an attachment posted in a channel. */
  attachmentUrl(channelId: string, attachmentId: string, filename: string): string;
  /** Largest file accepted in a channel, in bytes. */
  attachmentSizeLimit(channel: FakeChannel): number;
}

/** A file to store as an attachment. */
export interface AttachmentInput {
  readonly filename: string;
  readonly contentType: string | null;
  readonly data: Buffer;
  readonly description?: string | null;
  readonly title?: string | null;
  readonly ephemeral?: boolean;
}

/** Stores a file and returns its attachment (with pixel size for images, as Discord reports). */
export async function storeAttachment(
  ctx: WriterContext,
  channelId: string,
  input: AttachmentInput,
): Promise<FakeAttachment> {
  const id = ctx.state.ids.next();
  const size = input.contentType?.startsWith('image/') ? await imageSize(input.data) : null;
  const attachment: FakeAttachment = {
    id,
    filename: input.filename,
    contentType: input.contentType,
    data: input.data,
    url: ctx.attachmentUrl(channelId, id, input.filename),
    description: input.description ?? null,
    title: input.title ?? null,
    width: size?.width ?? null,
    height: size?.height ?? null,
    ephemeral: input.ephemeral ?? false,
  };
  ctx.state.attachments.set(id, attachment);
  return attachment;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function imageSize(data: Buffer): Promise<{ width: number; height: number } | null> {
  // A PNG says its size in its first chunk (IHDR); most uploads are PNGs, and sharp costs the fake far more.
  if (data.length >= 24 && data.subarray(0, 8).equals(PNG_SIGNATURE) && data.toString('latin1', 12, 16) === 'IHDR') {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  try {
    const { width, height } = await sharp(data).metadata();
    return width && height ? { width, height } : null;
  } catch {
    return null;
  }
}

/** How a new message comes to be. */
export interface NewMessage {
  readonly channel: FakeChannel;
  readonly authorId: string;
  readonly body: MessageBody;
  readonly files: readonly RecordedFile[];
  readonly webhookId?: string | null;
  readonly interaction?: FakeInteractionOrigin | null;
  readonly type?: MessageType;
  /** Interaction responses may be ephemeral; channel messages may not. */
  readonly ephemeralAllowed?: boolean;
  /** A deferred response: empty, flagged LOADING until the first edit. */
  readonly loading?: boolean;
}

const CREATE_FLAGS = MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2;

/** Builds and stores a message (the caller tells the bot about it). */
export async function createMessage(ctx: WriterContext, draft: NewMessage): Promise<FakeMessage> {
  const { channel, body } = draft;
  const ephemeral = draft.ephemeralAllowed === true && ((body.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
  checkReferences(body.components ?? [], (body.flags ?? 0) & IS_COMPONENTS_V2, plannedNames(body, draft.files, []));
  const attachments = await attachmentsFor(ctx, channel, body, draft.files, [], ephemeral);
  const hasBody = Boolean(body.content) || (body.embeds?.length ?? 0) > 0 || (body.components?.length ?? 0) > 0;
  const hasExtras = attachments.length > 0 || (body.sticker_ids?.length ?? 0) > 0 || body.poll !== undefined;
  if (!draft.loading && !hasBody && !hasExtras) throw errors.emptyMessage();
  const reference = referenceFor(ctx, channel, body);
  const flags =
    ((body.flags ?? 0) & CREATE_FLAGS) |
    (ephemeral ? MessageFlags.Ephemeral : 0) |
    (draft.loading ? MessageFlags.Loading : 0);
  const message: FakeMessage = {
    id: ctx.state.ids.next(),
    channelId: channel.id,
    guildId: channel.guildId,
    authorId: draft.authorId,
    webhookId: draft.webhookId ?? null,
    type: draft.type ?? (reference ? MessageType.Reply : MessageType.Default),
    content: body.content ?? '',
    embeds: body.embeds ?? [],
    components: body.components ?? [],
    attachments,
    flags,
    createdAt: Date.now(),
    editedAt: null,
    reference,
    mentionUserIds: [],
    mentionRoleIds: [],
    mentionEveryone: false,
    interaction: draft.interaction ?? null,
    threadId: null,
    position: channel.thread ? channel.messageCount : null,
    tts: body.tts ?? false,
    nonce: body.nonce ?? null,
    pinned: false,
    deleted: false,
    reactions: [],
  };
  applyMentions(ctx.state, message, body);
  ctx.state.addMessage(message);
  if (!ephemeral) {
    channel.lastMessageId = message.id;
    if (channel.thread) channel.messageCount += 1;
  }
  return message;
}

/** Applies an edit body to a message in place. */
export async function editMessage(
  ctx: WriterContext,
  message: FakeMessage,
  body: MessageBody,
  files: readonly RecordedFile[],
): Promise<FakeMessage> {
  const channel = ctx.state.channel(message.channelId);
  const ephemeral = (message.flags & MessageFlags.Ephemeral) !== 0;
  const upgrading = (message.flags & IS_COMPONENTS_V2) === 0 && ((body.flags ?? 0) & IS_COMPONENTS_V2) !== 0;
  const next = {
    content: body.content === undefined ? message.content : (body.content ?? ''),
    // On the edit that turns a message V2, Discord clears embeds only with `[]`: `null` leaves them, and the edit is
    // refused (discord-api-docs issue 7787); elsewhere `null` clears them.
    embeds: body.embeds === undefined || (upgrading && body.embeds === null) ? message.embeds : (body.embeds ?? []),
    components: body.components === undefined ? message.components : (body.components ?? []),
  };
  const v2 = (message.flags | (body.flags ?? 0)) & IS_COMPONENTS_V2;
  // A message turned into a Components V2 one by this edit must lose what it had of content and embeds in the same edit.
  if (v2 !== 0) {
    const legacy = legacyFieldProblems({ content: next.content, embeds: next.embeds as Record<string, unknown>[] });
    if (legacy.length > 0) throw errors.invalidFormBody(legacy);
  }
  checkReferences(next.components, v2, plannedNames(body, files, message.attachments));
  const attachments = await attachmentsFor(ctx, channel, body, files, message.attachments, ephemeral);
  if (!next.content && next.embeds.length === 0 && next.components.length === 0 && attachments.length === 0) {
    throw errors.emptyMessage();
  }
  Object.assign(message, next, { attachments, editedAt: Date.now() });
  // An edit ends the "thinking..." state of a deferred response; only SuppressEmbeds can be toggled.
  message.flags &= ~MessageFlags.Loading;
  if (body.flags !== undefined && body.flags !== null) {
    message.flags = (message.flags & ~MessageFlags.SuppressEmbeds) | (body.flags & CREATE_FLAGS);
  }
  const v2Text = (message.flags & IS_COMPONENTS_V2) !== 0 && body.components !== undefined;
  if (body.content !== undefined || body.allowed_mentions !== undefined || v2Text) {
    applyMentions(ctx.state, message, body);
  }
  return message;
}

async function attachmentsFor(
  ctx: WriterContext,
  channel: FakeChannel,
  body: MessageBody,
  files: readonly RecordedFile[],
  existing: readonly FakeAttachment[],
  ephemeral: boolean,
): Promise<FakeAttachment[]> {
  const limit = ctx.attachmentSizeLimit(channel);
  if (files.some((file) => file.data.length > limit)) throw errors.tooLarge();
  const indexed = new Map(files.map((file, position) => [fileIndex(file, position), file]));
  const store = (file: RecordedFile, ref?: { filename?: string; description?: string | null; title?: string | null }) =>
    storeAttachment(ctx, channel.id, {
      filename: ref?.filename ?? file.filename,
      contentType: file.contentType,
      data: file.data,
      description: ref?.description ?? null,
      title: ref?.title ?? null,
      ephemeral,
    });
  if (!body.attachments) {
    // Without an `attachments` list, uploaded files are added to what the message already has.
    return [...existing, ...(await Promise.all(files.map((file) => store(file))))];
  }
  const result: FakeAttachment[] = [];
  for (const ref of body.attachments) {
    const kept = existing.find((attachment) => attachment.id === ref.id);
    const file = indexed.get(ref.id);
    if (kept) result.push(kept);
    else if (file) result.push(await store(file, ref));
  }
  return result;
}

/** The file names a message will have once `body` and `files` are applied (as `attachmentsFor` makes them). */
function plannedNames(
  body: MessageBody,
  files: readonly RecordedFile[],
  existing: readonly FakeAttachment[],
): string[] {
  if (!body.attachments) return [...existing.map((attachment) => attachment.filename), ...files.map((f) => f.filename)];
  const indexed = new Map(files.map((file, position) => [fileIndex(file, position), file]));
  return body.attachments.flatMap((ref) => {
    const kept = existing.find((attachment) => attachment.id === ref.id);
    if (kept) return [kept.filename];
    const file = indexed.get(ref.id);
    return file ? [ref.filename ?? file.filename] : [];
  });
}

/** A Components V2 message shows its files only through `attachment://` references, which must name one of them. */
function checkReferences(components: readonly unknown[], v2: number, names: readonly string[]): void {
  if (v2 === 0) return;
  const problems = attachmentReferenceProblems(components, names);
  if (problems.length > 0) throw errors.invalidFormBody(problems);
}

function fileIndex(file: RecordedFile, position: number): string {
  const match = /^files\[(\d+)\]$/.exec(file.fieldName);
  return match?.[1] ?? String(position);
}

function referenceFor(ctx: WriterContext, channel: FakeChannel, body: MessageBody) {
  const ref = body.message_reference;
  if (!ref) return null;
  const target = ctx.state.messages.get(ref.message_id);
  if (!target || target.deleted || target.channelId !== (ref.channel_id ?? channel.id)) {
    if (ref.fail_if_not_exists === false) return null;
    throw errors.invalidFormBody([
      { path: ['message_reference'], code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' },
    ]);
  }
  return { messageId: target.id, channelId: target.channelId, guildId: target.guildId };
}

/** Sets a message's mentions from its content, honouring `allowed_mentions` as Discord does. */
export function applyMentions(state: FakeState, message: FakeMessage, body: Pick<MessageBody, 'allowed_mentions'>) {
  const allowed = body.allowed_mentions;
  const parse = allowed?.parse ?? (allowed ? [] : ['users', 'roles', 'everyone']);
  // A Components V2 message has no content: its Text Displays mention, as content does.
  const said = (message.flags & IS_COMPONENTS_V2) === 0 ? message.content : textDisplaysOf(message.components);
  const userIds = [...said.matchAll(/<@!?(\d{15,21})>/g)].map((m) => m[1] ?? '');
  const roleIds = [...said.matchAll(/<@&(\d{15,21})>/g)].map((m) => m[1] ?? '');
  const users = userIds.filter(
    (id) => state.users.has(id) && (parse.includes('users') || allowed?.users?.includes(id)),
  );
  const referenced = message.reference ? state.messages.get(message.reference.messageId) : undefined;
  // Replies ping the replied-to author unless allowed_mentions says otherwise (then the default is false).
  if (referenced && (allowed ? allowed.replied_user === true : true)) users.push(referenced.authorId);
  message.mentionUserIds = [...new Set(users)];
  message.mentionRoleIds = roleIds.filter((id) => parse.includes('roles') || allowed?.roles?.includes(id));
  message.mentionEveryone = parse.includes('everyone') && /@(everyone|here)/.test(said);
}
