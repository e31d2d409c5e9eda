/**
 * Keeps each job's status card up to date without tripping Discord's rate limits: edits of one card are at least
 * `minIntervalMs` apart, intermediate states are coalesced (only the newest is sent), and the final state is always
 * shown (by final-post.ts). Edits go through the interaction webhook while its token lives (those calls do not count
 * against the bot's global rate limit), or edit the bot's own status message.
 *
 * Everything goes through REST (`client.rest`, and for interaction-webhook edits a manager without discord.js's global
 * budget) rather than an Interaction object, so a job recovered after a restart (no Interaction in memory) is rendered
 * exactly like a live one.
 *
 * A queue position is the one state that may come from another process than the card's later states (the dispatcher
 * shows positions, the carrier the rest): it never lands after a later state. Within this process the later state
 * waits for any position edit under way; across a fleet the `PositionFence` (Redis) refuses positions once a later
 * state began and makes it wait for the positions other processes have under way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Routes, type REST } from 'discord.js';
import type { PositionFence } from '../jobs/engine/position-fence.js';
import { POSITION_EDIT_TIMEOUT_MS, POSITION_MARKER_MS } from '../jobs/engine/position-fence.js';
import type { Logger } from '../logger.js';
import { CARD_FLAGS } from './card-layout.js';
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
  /** The bot is not in the channel (a user install): only the interaction webhook reaches it. */
  readonly webhookOnly?: boolean | undefined;
  /** The member's Discord language, for what the card says on its own (where the outcome went). */
  readonly locale?: string | undefined;
}

/** Where the card ended up: the id of the message that carries it and the channel it is in. */
export interface PostedCard {
  readonly messageId: string;
  readonly channelId: string;
  /** True when the token had expired and the card was posted as a new channel message. */
  readonly postedInChannel: boolean;
}

/** A position in the queue (may be refused once the card moved on), or any later state of the card. */
export type CardEditKind = 'position' | 'state';

interface PendingEdit {
  readonly render: () => RenderedCard;
  readonly kind: CardEditKind;
}

interface CardSlot {
  lastSentAt: number;
  pending: PendingEdit | undefined;
  /** True once this slot closed the card to positions (before its first later state). */
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<unknown>;
  /** The id of the message the edits landed on, once an edit answered. */
  messageId: string | undefined;
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
  /** The fleet's fence between positions and later states (a fleet's engine has one); none for one process. */
  readonly fence?: PositionFence | undefined;
  /**
   * How long the fence may take to answer before the card goes on without it (tests shorten both): a position edit's
   * `begin` (default 5 s; unanswered, the position is not sent) and a later state's `close` (default as long as a
   * position edit's mark lives, and a margin).
   */
  readonly fenceWaitMs?: { readonly begin?: number; readonly close?: number };
}

/** How long a position edit waits for the fence to let it begin: a position is never worth holding a card for. */
const FENCE_BEGIN_WAIT_MS = 5_000;
/** Every position edit's mark expires within POSITION_MARKER_MS: waiting longer only means Redis does not answer. */
const FENCE_CLOSE_WAIT_MS = POSITION_MARKER_MS + 5_000;

/** Throttled, coalescing editor of status cards. */
export class CardUpdater {
  readonly #rest: REST;
  readonly #interactionRest: REST;
  readonly #logger: Logger;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  readonly #slots = new Map<string, CardSlot>();
  readonly #fence: PositionFence | undefined;
  readonly #fenceWaitMs: { readonly begin: number; readonly close: number };
  /** Position edits under way in this process, by card (a settled slot's edit may still be in flight). */
  readonly #positionsUnderWay = new Map<string, Set<Promise<unknown>>>();

  constructor(options: CardUpdaterOptions) {
    this.#fence = options.fence;
    this.#fenceWaitMs = {
      begin: options.fenceWaitMs?.begin ?? FENCE_BEGIN_WAIT_MS,
      close: options.fenceWaitMs?.close ?? FENCE_CLOSE_WAIT_MS,
    };
    this.#rest = options.rest;
    this.#interactionRest = options.interactionRest ?? options.rest;
    this.#logger = options.logger;
    this.#minIntervalMs = options.minIntervalMs ?? 1500;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Shows an intermediate state; it may be merged with later ones, so it comes as a function that renders it, called
   * only for the state actually sent (a queue of N jobs moves N cards at each dispatch). `kind` is 'position' for a
   * place in the queue: refused once the card has shown a later state (see the header). Never throws.
   */
  show(key: string, target: CardTarget, render: () => RenderedCard, kind: CardEditKind = 'state'): void {
    const slot = this.#slot(key);
    slot.pending = { render, kind };
    if (slot.timer) return;
    const wait = Math.max(0, slot.lastSentAt + this.#minIntervalMs - this.#now());
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      slot.inFlight = slot.inFlight.then(() => this.#sendPending(key, slot, target));
    }, wait);
    slot.timer.unref();
  }

  /**
   * Ends a card's intermediate edits before its final state is posted (final-post.ts): drops the pending one and waits
   * for the edit in flight, so the final state lands last. It does not wait out the throttle interval: one more edit
   * fits any bucket (REST still waits if Discord says a bucket is empty), and waiting cost each result up to
   * `minIntervalMs` after ComfyUI was done. The card is closed to positions from any process (see the header).
   * Resolves with the id of the message the edits landed on, when one did.
   */
  async settle(key: string): Promise<{ messageId: string | undefined }> {
    const slot = this.#slots.get(key);
    if (slot?.timer) clearTimeout(slot.timer);
    this.#slots.delete(key);
    await slot?.inFlight;
    await this.#closeToPositions(key);
    return { messageId: slot?.messageId };
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
      slot = {
        lastSentAt: 0,
        pending: undefined,
        closed: false,
        timer: undefined,
        inFlight: Promise.resolve(),
        messageId: undefined,
      };
      this.#slots.set(key, slot);
    }
    return slot;
  }

  async #sendPending(key: string, slot: CardSlot, target: CardTarget): Promise<void> {
    const pending = slot.pending;
    slot.pending = undefined;
    if (!pending || !this.#slots.has(key) || !this.#editable(target)) return;
    if (pending.kind === 'position') return this.#sendPosition(key, slot, target, pending.render);
    if (!slot.closed) {
      await this.#closeToPositions(key);
      slot.closed = true;
    }
    await this.#send(key, slot, target, pending.render);
  }

  /** A position, only while the card is open to positions, and counted as under way until it has answered. */
  async #sendPosition(key: string, slot: CardSlot, target: CardTarget, render: () => RenderedCard): Promise<void> {
    let end: (() => Promise<void>) | undefined;
    try {
      end = this.#fence === undefined ? async () => undefined : await this.#beginPosition(this.#fence, key);
    } catch (error) {
      // Whether the card moved on is unknown: a position is never worth the risk of covering a later state.
      this.#logger.warn({ err: error, job: key }, 'could not check whether a card still shows its queue position');
    }
    if (end === undefined || !this.#slots.has(key)) return void (await end?.().catch(() => undefined));
    const edit = this.#send(key, slot, target, render, AbortSignal.timeout(POSITION_EDIT_TIMEOUT_MS));
    const underWay = this.#positionsUnderWay.get(key) ?? new Set();
    this.#positionsUnderWay.set(key, underWay.add(edit));
    try {
      await edit;
    } finally {
      underWay.delete(edit);
      if (underWay.size === 0) this.#positionsUnderWay.delete(key);
      await end().catch((error: unknown) =>
        // Its marker expires by itself: a later state waits at most that long.
        this.#logger.warn({ err: error, job: key }, 'could not end a position edit’s marker'),
      );
    }
  }

  /**
   * The fence's leave for a position edit, or undefined when refused. Bounded: a Redis that does not answer would
   * otherwise hold this card's slot, and with it the card's later states and its final post (a delivery, a shutdown).
   * A leave Redis grants after the wait was given up is handed back at once, unused.
   */
  async #beginPosition(fence: PositionFence, key: string): Promise<(() => Promise<void>) | undefined> {
    const begun = fence.begin(key);
    const answer = await within(begun, this.#fenceWaitMs.begin);
    if (answer !== TIMED_OUT) return answer;
    this.#logger.warn({ job: key }, 'Redis did not answer before a queue position edit; the position is not sent');
    void begun.then(async (end) => end?.()).catch(() => undefined);
    return undefined;
  }

  /** No position of this card may land from now on: waits for those under way here and, in a fleet, anywhere. */
  async #closeToPositions(key: string): Promise<void> {
    await Promise.allSettled([...(this.#positionsUnderWay.get(key) ?? [])]);
    if (this.#fence === undefined) return;
    // Bounded (see FENCE_CLOSE_WAIT_MS): the card's own state is not held back for ever for a Redis that does not answer.
    try {
      if ((await within(this.#fence.close(key), this.#fenceWaitMs.close)) === TIMED_OUT)
        this.#logger.warn({ job: key }, 'Redis did not answer while closing a card to queue positions');
    } catch (error) {
      // Redis away: the card's own state is not held back for it (a position is refused while Redis is away too).
      this.#logger.warn({ err: error, job: key }, 'could not close a card to queue positions');
    }
  }

  async #send(
    key: string,
    slot: CardSlot,
    target: CardTarget,
    render: () => RenderedCard,
    signal?: AbortSignal,
  ): Promise<void> {
    slot.lastSentAt = this.#now();
    try {
      const message = (await this.#edit(target, render(), signal)) as { id?: unknown } | undefined;
      if (typeof message?.id === 'string') slot.messageId = message.id;
    } catch (error) {
      // A lost progress edit is harmless: the next state or the final card replaces it.
      this.#logger.warn({ err: error, job: key }, 'could not update a status card');
    }
  }

  /** Edits the card where it is: the interaction's original response, or the bot's own status message. */
  #edit(target: CardTarget, card: RenderedCard, signal?: AbortSignal): Promise<unknown> {
    const options = { body: editBodyOf(card), files: filesOf(card), ...(signal ? { signal } : {}) };
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
    return tokenAlive(target, this.#now());
  }
}

const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT once `ms` have passed first (its timer then holds no process open). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  const waiting = new AbortController();
  const givenUp = sleep(ms, TIMED_OUT, { signal: waiting.signal, ref: false });
  try {
    return await Promise.race([promise, givenUp]);
  } finally {
    waiting.abort();
  }
}

/** True while the target's interaction token can still be used (with a safety margin). */
export function tokenAlive(target: CardTarget, now: number): boolean {
  return (
    target.interactionToken !== undefined &&
    target.applicationId !== undefined &&
    now < target.tokenExpiresAt - TOKEN_SAFETY_MS
  );
}

/** The JSON part of a card's message body: a Components V2 message, from its first state to its last. */
export function bodyOf(card: RenderedCard) {
  return {
    flags: CARD_FLAGS,
    components: card.components,
    // Listing the attachments replaces the previous ones (a preview is not kept next to the final picture).
    attachments: card.files.map((file, index) => ({ id: index, filename: file.name })),
  };
}

/**
 * The body of an edit of a card. `content` and `embeds` are cleared: a card posted by a version before Components V2
 * (a job carried across the upgrade) had both, and Discord turns a message into a V2 one only when they go. Each is
 * cleared with the empty value Discord takes for it: `null` for content, `[]` for embeds (`embeds: null` is refused
 * with a 400 on that edit: discord-api-docs issue 7787).
 */
export function editBodyOf(card: RenderedCard) {
  return { content: null, embeds: [], ...bodyOf(card) };
}

/** The files of a card's message body, in the form discord.js uploads. */
export function filesOf(card: RenderedCard) {
  return card.files.length === 0
    ? undefined
    : card.files.map((file) => ({ name: file.name, data: file.data, contentType: file.contentType }));
}
