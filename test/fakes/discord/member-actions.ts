/**
 * A test acting as a member: slash commands, buttons, select menus, modal submissions, autocomplete and plain
 * messages. Each builds the payload Discord would send, dispatches it to the bot, and (for interactions) returns an
 * `InteractionHandle`. Asking for something a real member could not do (a missing button, an option the command
 * lacks, posting without permission) throws, so a broken test setup is loud.
 */
import { ComponentType, InteractionType, PermissionFlagsBits } from 'discord.js';
import type { CallLog, RecordedFile } from './call-log.js';
import type { ChangeSignal } from './change-signal.js';
import { buildCommandData, type OptionValue } from './command-options.js';
import { fileUploadIds, findComponent, modalSubmission, type ModalFile, type ModalValues } from './components.js';
import { sendPermission, type FakeContext } from './context.js';
import { InteractionHandle } from './interaction-handle.js';
import { interactionEnvelope } from './interaction-payloads.js';
import type { InteractionRecord, NewInteraction } from './interaction-registry.js';
import { placeOfCommand, placeOfMessage, type InteractionPlace } from './installation.js';
import { createMessage, storeAttachment } from './message-writer.js';
import type { FakeChannel, FakeMessage, FakeUser } from './model.js';
import { serializeAttachment, serializeMessage } from './serialize.js';
import { idOf, type Ref } from './state.js';

/** A file a member attaches. */
export interface FileInput {
  readonly name: string;
  readonly data: Buffer | Uint8Array | string;
  /** Guessed from the file name when left out. */
  readonly contentType?: string;
  readonly description?: string;
}

/** A slash command as a member types it. */
export interface SlashCommandInput {
  readonly user: Ref<FakeUser>;
  readonly channel: Ref<FakeChannel>;
  /** `'imagine'`, or with subcommands: `'settings set'`. */
  readonly name: string;
  readonly options?: Readonly<Record<string, OptionValue>>;
  /** Attachment options by option name. */
  readonly attachments?: Readonly<Record<string, FileInput>>;
}

/** An autocomplete request: the member is typing `focused`; its current text is `options[focused]`. */
export interface AutocompleteInput extends Omit<SlashCommandInput, 'attachments'> {
  readonly focused: string;
}

/** A plain message from a member. */
export interface PostMessageInput {
  readonly user: Ref<FakeUser>;
  readonly channel: Ref<FakeChannel>;
  readonly content?: string;
  readonly attachments?: readonly FileInput[];
  readonly replyTo?: Ref<FakeMessage>;
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
};

function contentTypeOf(file: { readonly name: string; readonly contentType?: string | undefined }): string {
  const extension = file.name.split('.').pop()?.toLowerCase() ?? '';
  return file.contentType ?? CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

function bytes(data: FileInput['data'] | ModalFile['data']): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

type InteractionFields = Pick<NewInteraction, 'type' | 'commandName' | 'sourceMessageId' | 'place'> & {
  user: FakeUser;
  channel: FakeChannel;
};

/** The member-side actions. */
export class MemberActions {
  constructor(
    private readonly ctx: FakeContext,
    private readonly calls: CallLog,
    private readonly signal: ChangeSignal,
  ) {}

  async sendSlashCommand(input: SlashCommandInput): Promise<InteractionHandle> {
    return this.send(await this.prepareSlashCommand(input));
  }

  /**
   * Several members run slash commands at the same moment: every payload is built first, then all are dispatched in
   * one write, each stamped with that moment (so building one does not count against the bot's time for another).
   */
  async sendSlashCommands(inputs: readonly SlashCommandInput[]): Promise<InteractionHandle[]> {
    const records: InteractionRecord[] = [];
    for (const input of inputs) records.push(await this.prepareSlashCommand(input));
    const handles: InteractionHandle[] = [];
    this.ctx.announce.together(() => {
      for (const record of records) handles.push(this.send(record));
    });
    return handles;
  }

  private async prepareSlashCommand(input: SlashCommandInput): Promise<InteractionRecord> {
    const { user, channel } = this.participants(input.user, input.channel, PermissionFlagsBits.UseApplicationCommands);
    const options: Record<string, OptionValue> = { ...input.options };
    for (const [name, file] of Object.entries(input.attachments ?? {})) {
      options[name] = await storeAttachment(this.ctx, channel.id, {
        filename: file.name,
        contentType: contentTypeOf(file),
        data: bytes(file.data),
        description: file.description ?? null,
        ephemeral: true,
      });
    }
    const invocation = { name: input.name, options, guildId: channel.guildId, channel, userId: user.id };
    const { data, commandName } = buildCommandData(this.ctx, invocation);
    const place = this.commandPlace(commandName, channel, user);
    return this.prepare(
      { type: InteractionType.ApplicationCommand, user, channel, commandName, sourceMessageId: null, place },
      { data },
    );
  }

  autocomplete(input: AutocompleteInput): Promise<InteractionHandle> {
    const { user, channel } = this.participants(input.user, input.channel, PermissionFlagsBits.UseApplicationCommands);
    if (!(input.focused in (input.options ?? {}))) throw new Error(`options must hold the text of "${input.focused}"`);
    const invocation = {
      name: input.name,
      options: input.options ?? {},
      guildId: channel.guildId,
      channel,
      userId: user.id,
      focused: input.focused,
    };
    const { data, commandName } = buildCommandData(this.ctx, invocation);
    const place = this.commandPlace(commandName, channel, user);
    return this.dispatch(
      {
        type: InteractionType.ApplicationCommandAutocomplete,
        user,
        channel,
        commandName,
        sourceMessageId: null,
        place,
      },
      { data },
    );
  }

  pressButton(messageRef: Ref<FakeMessage>, customId: string, userRef: Ref<FakeUser>): Promise<InteractionHandle> {
    const message = this.ctx.state.message(messageRef);
    const component = this.usableComponent(message, customId);
    if (component.type !== ComponentType.Button) throw new Error(`component ${customId} is not a button`);
    return this.componentInteraction(message, userRef, { custom_id: customId, component_type: ComponentType.Button });
  }

  selectMenu(
    messageRef: Ref<FakeMessage>,
    customId: string,
    values: readonly string[],
    userRef: Ref<FakeUser>,
  ): Promise<InteractionHandle> {
    const message = this.ctx.state.message(messageRef);
    const component = this.usableComponent(message, customId);
    if (component.type === ComponentType.StringSelect) {
      const offered = ((component.options ?? []) as { value: string }[]).map((option) => option.value);
      const wrong = values.filter((value) => !offered.includes(value));
      if (wrong.length > 0) throw new Error(`select ${customId} does not offer ${wrong.join(', ')}`);
    }
    const data = { custom_id: customId, component_type: component.type, values: [...values] };
    return this.componentInteraction(message, userRef, data);
  }

  async submitModal(from: InteractionHandle, values: ModalValues): Promise<InteractionHandle> {
    const modal = from.callback?.type === 9 ? from.callback.data : null;
    if (!modal) throw new Error(`interaction ${from.id} did not show a modal`);
    const layout = (modal.components ?? []) as unknown[];
    const { picked, attachments } = await this.storeModalFiles(layout, values, from.record.channelId);
    const components = modalSubmission(layout, picked);
    const { record } = from;
    const source = record.sourceMessageId ? this.ctx.state.messages.get(record.sourceMessageId) : undefined;
    const user = this.ctx.state.user(record.userId);
    const channel = this.ctx.state.channel(record.channelId);
    const { place } = record;
    return this.dispatch(
      {
        type: InteractionType.ModalSubmit,
        user,
        channel,
        commandName: null,
        sourceMessageId: source?.id ?? null,
        place,
      },
      {
        data: {
          custom_id: modal.custom_id,
          components,
          ...(Object.keys(attachments).length > 0 ? { resolved: { attachments } } : {}),
        },
        ...(source ? { message: serializeMessage(this.ctx.state, source) } : {}),
      },
    );
  }

  /** Stores the files a member put in a modal's file uploads; returns the values with their attachment ids. */
  private async storeModalFiles(layout: readonly unknown[], values: ModalValues, channelId: string) {
    const uploads = new Set(fileUploadIds(layout));
    const picked: Record<string, string | readonly string[]> = {};
    const attachments: Record<string, unknown> = {};
    for (const [id, value] of Object.entries(values)) {
      if (!uploads.has(id)) {
        if (Array.isArray(value) && value.some((item) => typeof item !== 'string')) {
          throw new Error(`modal input ${id} is not a file upload`);
        }
        picked[id] = value as string | readonly string[];
        continue;
      }
      const files = (Array.isArray(value) ? value : [value]) as readonly ModalFile[];
      const stored = [];
      for (const file of files) {
        stored.push(
          await storeAttachment(this.ctx, channelId, {
            filename: file.name,
            contentType: contentTypeOf(file),
            data: bytes(file.data),
            description: null,
            ephemeral: true,
          }),
        );
      }
      for (const attachment of stored) attachments[attachment.id] = serializeAttachment(attachment);
      picked[id] = stored.map((attachment) => attachment.id);
    }
    return { picked, attachments };
  }

  async postMessage(input: PostMessageInput): Promise<FakeMessage> {
    const files = input.attachments ?? [];
    const probe = this.ctx.state.channel(input.channel);
    const needed = sendPermission(probe) | (files.length > 0 ? PermissionFlagsBits.AttachFiles : 0n);
    const { user, channel } = this.participants(input.user, input.channel, needed);
    if (channel.thread?.archived) {
      if (channel.thread.locked) throw new Error(`thread ${channel.id} is locked`);
      channel.thread.archived = false;
      this.ctx.announce.channelUpdate(channel);
    }
    const recorded: RecordedFile[] = files.map((file, index) => ({
      fieldName: `files[${index}]`,
      filename: file.name,
      contentType: contentTypeOf(file),
      data: bytes(file.data),
    }));
    const replyTo = input.replyTo === undefined ? undefined : idOf(input.replyTo);
    const body = {
      content: input.content ?? '',
      ...(replyTo ? { message_reference: { message_id: replyTo, channel_id: channel.id } } : {}),
    };
    const message = await createMessage(this.ctx, { channel, authorId: user.id, body, files: recorded });
    this.ctx.announce.messageCreate(message);
    return message;
  }

  private componentInteraction(message: FakeMessage, userRef: Ref<FakeUser>, data: Record<string, unknown>) {
    const { user, channel } = this.participants(userRef, message.channelId, 0n);
    const madeBy = message.interaction?.authorizingOwners ?? null;
    const place = placeOfMessage(channel, this.ctx.botUser.id, this.ctx.state, madeBy);
    return this.dispatch(
      { type: InteractionType.MessageComponent, user, channel, commandName: null, sourceMessageId: message.id, place },
      { message: serializeMessage(this.ctx.state, message), data },
    );
  }

  private usableComponent(message: FakeMessage, customId: string): Record<string, unknown> {
    if (message.deleted) throw new Error(`message ${message.id} was deleted`);
    const component = findComponent(message.components, customId);
    if (!component) throw new Error(`message ${message.id} has no component with custom_id ${customId}`);
    if (component.disabled === true) throw new Error(`component ${customId} is disabled`);
    return component;
  }

  /** The user and channel, after checking the user may do this there. */
  private participants(userRef: Ref<FakeUser>, channelRef: Ref<FakeChannel>, needed: bigint) {
    const user = this.ctx.state.user(userRef);
    const channel = this.ctx.state.channel(channelRef);
    const granted = this.ctx.state.permissionsIn(user.id, channel);
    const required = needed | PermissionFlagsBits.ViewChannel;
    if ((granted & required) !== required) {
      throw new Error(`${user.username} lacks permissions in channel ${channel.name ?? channel.id} for this action`);
    }
    return { user, channel };
  }

  /** Where a command runs, from its registration (throws when the member could not use it there). */
  private commandPlace(commandName: string, channel: FakeChannel, user: FakeUser): InteractionPlace {
    const registered = this.ctx.commands.find(commandName, channel.guildId);
    return placeOfCommand(this.ctx.state, channel, user.id, this.ctx.botUser.id, registered);
  }

  private dispatch(fields: InteractionFields, extra: Record<string, unknown>): Promise<InteractionHandle> {
    return Promise.resolve(this.send(this.prepare(fields, extra)));
  }

  /** Registers an interaction and builds its payload, without sending it. */
  private prepare(fields: InteractionFields, extra: Record<string, unknown>): InteractionRecord {
    const record = this.ctx.interactions.create({
      id: this.ctx.state.ids.next(),
      type: fields.type,
      userId: fields.user.id,
      channelId: fields.channel.id,
      guildId: fields.channel.guildId,
      commandName: fields.commandName,
      sourceMessageId: fields.sourceMessageId,
      place: fields.place,
    });
    record.payload = { ...interactionEnvelope(this.ctx, record), ...extra };
    return record;
  }

  /** Dispatches a prepared interaction; Discord's clocks (the 3-second deadline) start now. */
  private send(record: InteractionRecord): InteractionHandle {
    record.createdAt = Date.now();
    record.deliveredTo = this.ctx.announce.interactionCreate(record.payload, record.guildId);
    return new InteractionHandle(record, this.ctx.state, this.calls, this.signal);
  }
}
