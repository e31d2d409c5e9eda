/**
 * Interaction callbacks and the interaction webhook (no bot token: the interaction token is the credential):
 * acknowledge once within the deadline, then edit `@original` and send followups while the token lives.
 */
import { InteractionResponseType, InteractionType, MessageFlags, MessageType } from 'discord.js';
import { z } from 'zod';
import type { FakeContext } from '../context.js';
import type { InteractionRecord } from '../interaction-registry.js';
import { parseMessageBody, parseMessageEdit } from '../message-body.js';
import { modalProblems } from '../modal-check.js';
import { createMessage, editMessage } from '../message-writer.js';
import type { FakeInteractionOrigin, FakeMessage } from '../model.js';
import { errors, type RestRequest, type RestResponse } from '../rest-types.js';
import type { Router } from '../router.js';
import { serializeMessage } from '../serialize.js';
import { param } from './message-routes.js';

const callbackSchema = z.looseObject({ type: z.number().int(), data: z.record(z.string(), z.unknown()).nullish() });

const R = InteractionResponseType;
/** Which callback types each interaction type accepts. */
const ALLOWED_CALLBACKS: Record<number, readonly number[]> = {
  [InteractionType.ApplicationCommand]: [R.ChannelMessageWithSource, R.DeferredChannelMessageWithSource, R.Modal],
  [InteractionType.MessageComponent]: [
    R.ChannelMessageWithSource,
    R.DeferredChannelMessageWithSource,
    R.DeferredMessageUpdate,
    R.UpdateMessage,
    R.Modal,
  ],
  [InteractionType.ApplicationCommandAutocomplete]: [R.ApplicationCommandAutocompleteResult],
  [InteractionType.ModalSubmit]: [
    R.ChannelMessageWithSource,
    R.DeferredChannelMessageWithSource,
    R.DeferredMessageUpdate,
    R.UpdateMessage,
  ],
};

/** Registers the callback and webhook routes. */
export function registerInteractionRoutes(router: Router, ctx: FakeContext): void {
  router.add('POST', '/interactions/:interactionId/:token/callback', 'none', (req) => callback(ctx, req));
  const hook = '/webhooks/:applicationId/:token';
  router.add('POST', hook, 'none', (req) => followup(ctx, req));
  router.add('GET', `${hook}/messages/:messageId`, 'none', (req) => {
    const { message } = webhookMessage(ctx, req);
    return { status: 200, body: serializeMessage(ctx.state, message) };
  });
  router.add('PATCH', `${hook}/messages/:messageId`, 'none', async (req) => {
    const { message } = webhookMessage(ctx, req);
    await editMessage(ctx, message, parseMessageEdit(req.body, message.flags), req.files);
    ctx.announce.messageUpdate(message);
    return { status: 200, body: serializeMessage(ctx.state, message) };
  });
  router.add('DELETE', `${hook}/messages/:messageId`, 'none', (req) => {
    const { message } = webhookMessage(ctx, req);
    message.deleted = true;
    ctx.announce.messageDelete(message);
    return { status: 204 };
  });
}

async function callback(ctx: FakeContext, req: RestRequest): Promise<RestResponse> {
  const record = ctx.interactions.forCallback(param(req, 'interactionId'), param(req, 'token'), req.receivedAt);
  const parsed = callbackSchema.safeParse(req.body);
  if (!parsed.success || !ALLOWED_CALLBACKS[record.type]?.includes(parsed.data.type)) {
    throw errors.invalidFormBody([
      { path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid interaction response type' },
    ]);
  }
  const { type } = parsed.data;
  const data = parsed.data.data ?? null;
  const message = await applyCallback(ctx, record, type, data, req);
  record.callback = { type, data, at: req.receivedAt };
  ctx.signal.notify();
  if (req.query.with_response !== 'true') return { status: 204 };
  return { status: 200, body: callbackResponse(ctx, record, type, message) };
}

async function applyCallback(
  ctx: FakeContext,
  record: InteractionRecord,
  type: number,
  data: Record<string, unknown> | null,
  req: RestRequest,
): Promise<FakeMessage | null> {
  if (type === R.ChannelMessageWithSource || type === R.DeferredChannelMessageWithSource) {
    const loading = type === R.DeferredChannelMessageWithSource;
    const body = parseMessageBody(loading ? { flags: data?.flags ?? 0 } : data);
    const message = await createMessage(ctx, {
      channel: ctx.state.channel(record.channelId),
      authorId: ctx.botUser.id,
      body,
      files: req.files,
      webhookId: ctx.application.id,
      interaction: originOf(record),
      type: responseMessageType(record),
      ephemeralAllowed: true,
      loading,
    });
    record.originalMessageId = message.id;
    ctx.announce.messageCreate(message);
    return message;
  }
  if (type === R.UpdateMessage || type === R.DeferredMessageUpdate) {
    const source = record.sourceMessageId ? ctx.state.messages.get(record.sourceMessageId) : undefined;
    if (!source) throw errors.unknownMessage();
    if (type === R.UpdateMessage) {
      await editMessage(ctx, source, parseMessageEdit(data, source.flags), req.files);
      ctx.announce.messageUpdate(source);
    }
    return source;
  }
  if (type === R.ApplicationCommandAutocompleteResult) checkChoices(data);
  if (type === R.Modal) checkModal(data);
  return null;
}

const choicesSchema = z.object({
  choices: z.array(z.object({ name: z.string().min(1).max(100), value: z.union([z.string(), z.number()]) })).max(25),
});

function checkChoices(data: unknown): void {
  if (!choicesSchema.safeParse(data).success) {
    throw errors.invalidFormBody([
      { path: ['data', 'choices'], code: 'BASE_TYPE_INVALID', message: 'Invalid choices' },
    ]);
  }
}

function checkModal(data: Record<string, unknown> | null): void {
  const problems = modalProblems(data);
  if (problems.length > 0) throw errors.invalidFormBody(problems);
}

/** The `interaction_metadata` source of messages an interaction creates. */
export function originOf(record: InteractionRecord): FakeInteractionOrigin {
  return {
    interactionId: record.id,
    interactionType: record.type,
    commandName: record.commandName,
    userId: record.userId,
    guildId: record.guildId,
    authorizingOwners: record.place.owners,
    interactedMessageId: record.type === InteractionType.MessageComponent ? record.sourceMessageId : null,
  };
}

function responseMessageType(record: InteractionRecord): MessageType {
  if (record.type !== InteractionType.ApplicationCommand) return MessageType.Default;
  const data = record.payload.data as { type?: number } | undefined;
  return data?.type === 1 ? MessageType.ChatInputCommand : MessageType.ContextMenuCommand;
}

function callbackResponse(ctx: FakeContext, record: InteractionRecord, type: number, message: FakeMessage | null) {
  const messageFields = message
    ? {
        response_message_id: message.id,
        response_message_loading: (message.flags & MessageFlags.Loading) !== 0,
        response_message_ephemeral: (message.flags & MessageFlags.Ephemeral) !== 0,
      }
    : {};
  return {
    interaction: { id: record.id, type: record.type, ...messageFields },
    resource: { type, ...(message ? { message: serializeMessage(ctx.state, message) } : {}) },
  };
}

function interactionForWebhook(ctx: FakeContext, req: RestRequest): InteractionRecord {
  if (param(req, 'applicationId') !== ctx.application.id) throw errors.unknownWebhook();
  return ctx.interactions.forWebhook(param(req, 'token'), req.receivedAt);
}

async function followup(ctx: FakeContext, req: RestRequest): Promise<RestResponse> {
  const record = interactionForWebhook(ctx, req);
  // Followups need an acknowledged interaction; before that the webhook does not exist yet.
  if (!record.callback) throw errors.unknownWebhook();
  const message = await createMessage(ctx, {
    channel: ctx.state.channel(record.channelId),
    authorId: ctx.botUser.id,
    body: parseMessageBody(req.body),
    files: req.files,
    webhookId: ctx.application.id,
    interaction: originOf(record),
    ephemeralAllowed: true,
  });
  record.followupIds.push(message.id);
  ctx.announce.messageCreate(message);
  return req.query.wait === 'true' ? { status: 200, body: serializeMessage(ctx.state, message) } : { status: 204 };
}

function webhookMessage(ctx: FakeContext, req: RestRequest): { record: InteractionRecord; message: FakeMessage } {
  const record = interactionForWebhook(ctx, req);
  if (!record.callback) throw errors.unknownMessage();
  const requested = param(req, 'messageId');
  const id = requested === '@original' ? record.originalMessageId : requested;
  const belongs = id !== null && (id === record.originalMessageId || record.followupIds.includes(id));
  const message = belongs ? ctx.state.messages.get(id) : undefined;
  if (!message || message.deleted) throw errors.unknownMessage();
  return { record, message };
}
