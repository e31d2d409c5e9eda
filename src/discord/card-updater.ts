/**
 * Keeps each job's status card up to date without tripping Discord's rate limits: edits of one card are at least
 * `minIntervalMs` apart, intermediate states are coalesced (only the newest is sent), and the final state is always
 * shown. Edits go through the interaction webhook while its token lives (those calls do not count against the bot's
 * global rate limit); once the token has expired, the final card is posted in the channel, mentioning the member.
 *
 * Everything goes through REST (`client.rest`, and for interaction-webhook edits a manager without discord.js's global
 * budget) rather than an Interaction object, so a job recovered after a restart (no Interaction in memory) is rendered
 * exactly like a live one.
 */
import { DiscordAPIError, RESTJSONErrorCodes, Routes, type REST } from 'discord.js';
import type { Logger } from '../logger.js';
import type { RenderedCard } from './cards.js';

/** Where a job's card lives; persisted with the job so a restarted bot can still reach it. */
export interface CardTarget {
  /** The interaction's webhook, for cards that answer a slash command, a button or a modal. */
  readonly applicationId?: string | undefined;
  readonly interactionToken?: string | undefined;
  /** Epoch ms after which the interaction token is dead (Discord: 15 minutes after the interaction). */
  readonly tokenExpiresAt: number;
  readonly channelId: string;
  /** The bot's own status message, for cards that answer a message (a reply in a session thread). */
  readonly messageId?: string | undefined;
  readonly memberId: string;
}

/** Where the card ended up: the id of the message that carries it and the channel it is in. */
export interface PostedCard {
  readonly messageId: string;
  readonly channelId: string;
  /** True when the token had expired and the card was posted as a new channel message. */
  readonly postedInChannel: boolean;
}

interface CardSlot {
  lastSentAt: number;
  pending: (() => RenderedCard) | undefined;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<unknown>;
}

// Expire a little early: a token that dies between our check and Discord's receipt would cost an error round trip.
const TOKEN_SAFETY_MS = 30_000;

export interface CardUpdaterOptions {
  readonly rest: REST;
  /** For edits through the interaction webhook (see `createInteractionRest`); `rest` when unset. */
  readonly interactionRest?: REST;
  readonly logger: Logger;
  readonly minIntervalMs?: number;
  readonly now?: () => number;
}

/** Throttled, coalescing editor of status cards. */
export class CardUpdater {
  readonly #rest: REST;
  readonly #interactionRest: REST;
  readonly #logger: Logger;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  readonly #slots = new Map<string, CardSlot>();

  constructor(options: CardUpdaterOptions) {
    this.#rest = options.rest;
    this.#interactionRest = options.interactionRest ?? options.rest;
    this.#logger = options.logger;
    this.#minIntervalMs = options.minIntervalMs ?? 1500;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Shows an intermediate state; it may be merged with later ones, so it comes as a function that renders it, called
   * only for the state actually sent (a queue of N jobs moves N cards at each dispatch). Never throws.
   */
  show(key: string, target: CardTarget, render: () => RenderedCard): void {
    const slot = this.#slot(key);
    slot.pending = render;
    if (slot.timer) return;
    const wait = Math.max(0, slot.lastSentAt + this.#minIntervalMs - this.#now());
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      slot.inFlight = slot.inFlight.then(() => this.#sendPending(key, slot, target));
    }, wait);
    slot.timer.unref();
  }

  /**
   * Shows the final state of a card and forgets the job. Waits for the edit in flight, so the final state lands last,
   * but not for the throttle interval: that keeps intermediate edits sparse, and one more edit fits any bucket (REST
   * still waits if Discord says a bucket is empty). Waiting cost each result up to `minIntervalMs` after ComfyUI was
   * done. Throws when the card could be placed nowhere (the caller logs and records that).
   */
  async finish(key: string, target: CardTarget, card: RenderedCard): Promise<PostedCard> {
    const slot = this.#slot(key);
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.pending = undefined;
    await slot.inFlight;
    try {
      return await this.#deliverFinal(target, card);
    } finally {
      this.#slots.delete(key);
    }
  }

  /** Forgets a job's pending edits (e.g. on shutdown). */
  forget(key: string): void {
    const slot = this.#slots.get(key);
    if (slot?.timer) clearTimeout(slot.timer);
    this.#slots.delete(key);
  }

  #slot(key: string): CardSlot {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { lastSentAt: 0, pending: undefined, timer: undefined, inFlight: Promise.resolve() };
      this.#slots.set(key, slot);
    }
    return slot;
  }

  async #sendPending(key: string, slot: CardSlot, target: CardTarget): Promise<void> {
    const render = slot.pending;
    slot.pending = undefined;
    if (!render || !this.#slots.has(key) || !this.#editable(target)) return;
    slot.lastSentAt = this.#now();
    try {
      await this.#edit(target, render());
    } catch (error) {
      // A lost progress edit is harmless: the next state or the final card replaces it.
      this.#logger.warn({ err: error, job: key }, 'could not update a status card');
    }
  }

  async #deliverFinal(target: CardTarget, card: RenderedCard): Promise<PostedCard> {
    if (this.#editable(target)) {
      try {
        const message = (await this.#edit(target, card)) as { id: string; channel_id?: string };
        return { messageId: message.id, channelId: message.channel_id ?? target.channelId, postedInChannel: false };
      } catch (error) {
        if (!isDeadInteraction(error)) throw error;
        this.#logger.info({ err: error }, 'interaction token no longer valid; posting the result in the channel');
      }
    }
    const message = (await this.#rest.post(Routes.channelMessages(target.channelId), {
      body: {
        ...bodyOf(card),
        content: `<@${target.memberId}> ${card.content}`,
        allowed_mentions: { users: [target.memberId] },
      },
      files: filesOf(card),
    })) as { id: string };
    return { messageId: message.id, channelId: target.channelId, postedInChannel: true };
  }

  /** Edits the card where it is: the interaction's original response, or the bot's own status message. */
  #edit(target: CardTarget, card: RenderedCard): Promise<unknown> {
    const options = { body: bodyOf(card), files: filesOf(card) };
    if (this.#tokenAlive(target)) {
      const route = Routes.webhookMessage(target.applicationId!, target.interactionToken!, '@original');
      return this.#interactionRest.patch(route, { ...options, auth: false });
    }
    return this.#rest.patch(Routes.channelMessage(target.channelId, target.messageId!), options);
  }

  #editable(target: CardTarget): boolean {
    return this.#tokenAlive(target) || target.messageId !== undefined;
  }

  #tokenAlive(target: CardTarget): boolean {
    return (
      target.interactionToken !== undefined &&
      target.applicationId !== undefined &&
      this.#now() < target.tokenExpiresAt - TOKEN_SAFETY_MS
    );
  }
}

function bodyOf(card: RenderedCard) {
  return {
    content: card.content,
    embeds: card.embeds,
    components: card.components,
    // Listing the attachments replaces the previous ones (a preview is not kept next to the final picture).
    attachments: card.files.map((file, index) => ({ id: index, filename: file.name })),
  };
}

function filesOf(card: RenderedCard) {
  return card.files.length === 0
    ? undefined
    : card.files.map((file) => ({ name: file.name, data: file.data, contentType: file.contentType }));
}

function isDeadInteraction(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.InvalidWebhookToken ||
      error.code === RESTJSONErrorCodes.UnknownWebhook ||
      error.code === RESTJSONErrorCodes.UnknownInteraction ||
      error.code === RESTJSONErrorCodes.UnknownMessage)
  );
}
