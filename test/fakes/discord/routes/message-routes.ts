/**
 * Channel messages with the bot token: list, get, create (JSON or multipart), edit, delete, typing and reactions.
 * Every call checks the bot's permissions in the channel as Discord does.
 */
import { PermissionFlagsBits } from 'discord.js';
import {
  findChannel,
  findChannelMessage,
  reopenThreadForPosting,
  requireBotPermissions,
  sendPermission,
  type FakeContext,
} from '../context.js';
import { parseMessageBody, parseMessageEdit, type MessageBody } from '../message-body.js';
import type { FakeMessage } from '../model.js';
import { createMessage, editMessage } from '../message-writer.js';
import { errors, type RestRequest, type RestResponse } from '../rest-types.js';
import type { Router } from '../router.js';
import { serializeMessage } from '../serialize.js';

const { AttachFiles, ManageMessages, ReadMessageHistory, AddReactions } = PermissionFlagsBits;

/** Registers the message routes. */
export function registerMessageRoutes(router: Router, ctx: FakeContext): void {
  const base = '/channels/:channelId/messages';
  router.add('GET', base, 'bot', (req) => listMessages(ctx, req));
  router.add('POST', base, 'bot', (req) => postMessage(ctx, req));
  router.add('GET', `${base}/:messageId`, 'bot', (req) => getMessage(ctx, req));
  router.add('PATCH', `${base}/:messageId`, 'bot', (req) => patchMessage(ctx, req));
  router.add('DELETE', `${base}/:messageId`, 'bot', (req) => deleteMessage(ctx, req));
  router.add('POST', '/channels/:channelId/typing', 'bot', (req) => {
    const channel = findChannel(ctx, param(req, 'channelId'));
    requireBotPermissions(ctx, channel, sendPermission(channel));
    return { status: 204 };
  });
  router.add('PUT', `${base}/:messageId/reactions/:emoji/@me`, 'bot', (req) => react(ctx, req, true));
  router.add('DELETE', `${base}/:messageId/reactions/:emoji/@me`, 'bot', (req) => react(ctx, req, false));
}

/** A path parameter the route template guarantees. */
export function param(req: RestRequest, name: string): string {
  return req.params[name] ?? '';
}

function listMessages(ctx: FakeContext, req: RestRequest): RestResponse {
  const channel = findChannel(ctx, param(req, 'channelId'));
  requireBotPermissions(ctx, channel, ReadMessageHistory);
  const limit = Math.min(Math.max(Number(req.query.limit ?? 50) || 50, 1), 100);
  let messages = ctx.state.messagesIn(channel.id).filter((m) => (m.flags & 64) === 0);
  const { before, after } = req.query;
  if (before) messages = messages.filter((m) => BigInt(m.id) < BigInt(before));
  if (after) messages = messages.filter((m) => BigInt(m.id) > BigInt(after));
  // Discord returns the newest first; with `after`, the oldest ones after the id.
  const page = after ? messages.slice(0, limit) : messages.slice(-limit);
  return { status: 200, body: page.reverse().map((m) => serializeMessage(ctx.state, m)) };
}

async function postMessage(ctx: FakeContext, req: RestRequest): Promise<RestResponse> {
  const channel = findChannel(ctx, param(req, 'channelId'));
  const body = parseMessageBody(req.body);
  const needed =
    sendPermission(channel) |
    (req.files.length > 0 ? AttachFiles : 0n) |
    (body.message_reference ? ReadMessageHistory : 0n);
  requireBotPermissions(ctx, channel, needed);
  const repeated = repeatedNonce(ctx, body, req.receivedAt);
  if (repeated) return { status: 200, body: serializeMessage(ctx.state, repeated) };
  reopenThreadForPosting(ctx, channel);
  const message = await createMessage(ctx, { channel, authorId: ctx.botUser.id, body, files: req.files });
  if (body.enforce_nonce === true && message.nonce !== null) nonces(ctx).set(String(message.nonce), message);
  ctx.announce.messageCreate(message);
  return { status: 200, body: serializeMessage(ctx.state, message) };
}

/**
 * How long Discord remembers a nonce sent with `enforce_nonce` ("checked for uniqueness in the past few minutes"; the
 * exact span is not documented, so the fake takes a short one and a bot must not count on more).
 */
export const NONCE_WINDOW_MS = 2 * 60 * 1000;

/** With `enforce_nonce`, the bot's message with the same nonce from the last few minutes: Discord returns it. */
function repeatedNonce(ctx: FakeContext, body: MessageBody, now: number): FakeMessage | undefined {
  if (body.enforce_nonce !== true || body.nonce === null || body.nonce === undefined) return undefined;
  const message = nonces(ctx).get(String(body.nonce));
  if (!message || message.deleted || now - message.createdAt > NONCE_WINDOW_MS) return undefined;
  return message;
}

/** The bot's messages by enforced nonce (only the bot posts through these routes). */
const noncesByState = new WeakMap<object, Map<string, FakeMessage>>();

function nonces(ctx: FakeContext): Map<string, FakeMessage> {
  let map = noncesByState.get(ctx.state);
  if (!map) noncesByState.set(ctx.state, (map = new Map()));
  return map;
}

function getMessage(ctx: FakeContext, req: RestRequest): RestResponse {
  const channel = findChannel(ctx, param(req, 'channelId'));
  requireBotPermissions(ctx, channel, ReadMessageHistory);
  const message = findChannelMessage(ctx, channel, param(req, 'messageId'));
  return { status: 200, body: serializeMessage(ctx.state, message) };
}

async function patchMessage(ctx: FakeContext, req: RestRequest): Promise<RestResponse> {
  const channel = findChannel(ctx, param(req, 'channelId'));
  requireBotPermissions(ctx, channel, req.files.length > 0 ? AttachFiles : 0n);
  const message = findChannelMessage(ctx, channel, param(req, 'messageId'));
  if (message.authorId !== ctx.botUser.id) throw errors.cannotEditOthers();
  if (channel.thread?.archived) throw errors.threadArchived();
  await editMessage(ctx, message, parseMessageEdit(req.body, message.flags), req.files);
  ctx.announce.messageUpdate(message);
  return { status: 200, body: serializeMessage(ctx.state, message) };
}

function deleteMessage(ctx: FakeContext, req: RestRequest): RestResponse {
  const channel = findChannel(ctx, param(req, 'channelId'));
  const message = findChannelMessage(ctx, channel, param(req, 'messageId'));
  requireBotPermissions(ctx, channel, message.authorId === ctx.botUser.id ? 0n : ManageMessages);
  message.deleted = true;
  ctx.announce.messageDelete(message);
  ctx.signal.notify();
  return { status: 204 };
}

function react(ctx: FakeContext, req: RestRequest, add: boolean): RestResponse {
  const channel = findChannel(ctx, param(req, 'channelId'));
  requireBotPermissions(ctx, channel, ReadMessageHistory | (add ? AddReactions : 0n));
  const message = findChannelMessage(ctx, channel, param(req, 'messageId'));
  const emoji = param(req, 'emoji');
  message.reactions = add
    ? [...new Set([...message.reactions, emoji])]
    : message.reactions.filter((name) => name !== emoji);
  ctx.signal.notify();
  return { status: 204 };
}
