/**
 * Posting a job's final card so that the member always learns the outcome, and learns it once.
 *
 * Where: the card itself (the interaction's original response while its token lives, or the bot's status message);
 * failing that a new message in the channel, mentioning the member; failing that a direct message. Each place is
 * tried with the whole card, then, when Discord refused the body (a file too large, no permission to attach files),
 * with the card without its files. A deterministic refusal moves on; a transient one (rate limit, 5xx, network)
 * rejects, and the whole delivery is tried again later (result-delivery.ts), across restarts too.
 *
 * Once: before each post, the delivery journal records where it goes and what it says; after it, the message. A post
 * recorded as under way but not as made may exist (the bot died in between): the place is looked at first (the
 * original response through its webhook, the status message, or the channel's messages since the first try), and
 * new messages carry a nonce with `enforce_nonce`, so Discord itself returns the first copy for a few minutes.
 *
 * When the outcome went to the channel or a direct message, the card itself (still saying "Running") is edited, when
 * it can be, to say where it went: through the interaction while its token lives, else by its message id.
 */
import { Routes, SnowflakeUtil, type REST } from 'discord.js';
import type { Logger } from '../logger.js';
import type { FaultPoint } from '../fault-point.js';
import type { CardTarget, PostedCard } from './card-updater.js';
import { bodyOf, editBodyOf, filesOf, tokenAlive } from './card-updater.js';
import { cardText, prefixFirstText } from './card-layout.js';
import { sentenceCard, type RenderedCard } from './cards.js';
import type { DeliveryJournal, DeliveryRecord, PostRoute } from './delivery-journal.js';
import { classifyFailure, codeOf } from './discord-errors.js';
import { text, type TextKey } from '../i18n/catalog.js';

/** The card to post, and the smaller one to fall back on when Discord refuses the first (undefined: none smaller). */
export interface FinalCard {
  readonly full: RenderedCard;
  readonly withoutFiles: RenderedCard | undefined;
}

/** Where the card ended up, and the journal record that says so. */
export interface FinalPostResult {
  readonly posted: PostedCard | undefined;
  readonly record: DeliveryRecord;
}

/**
 * Runs right after a post, before it is journaled (e.g. recording the generation, so its buttons work at once); what
 * it returns is journaled with the post. A crash in between is safe: the post is found again, the step runs again.
 */
export type OnPosted = (posted: PostedCard) => Promise<Partial<DeliveryRecord>>;

interface Step {
  readonly route: PostRoute;
  readonly card: RenderedCard;
}

interface PostedMessage {
  readonly id: string;
  readonly channel_id?: string;
  readonly content?: string;
  readonly components?: readonly unknown[];
  readonly author?: { readonly bot?: boolean };
}

/** What the card says once the outcome went elsewhere (in the member's language). */
export const POINTERS = { channel: 'card.pointerChannel', dm: 'card.pointerDm' } as const satisfies Record<
  Exclude<PostRoute, 'card'>,
  TextKey
>;

export interface FinalPosterOptions {
  readonly rest: REST;
  readonly interactionRest: REST;
  readonly journal: DeliveryJournal;
  readonly logger: Logger;
  readonly fault: FaultPoint;
  readonly now?: () => number;
}

/** Posts final cards down the chain card → channel → direct message. */
export class FinalPoster {
  readonly #options: FinalPosterOptions;
  readonly #now: () => number;

  constructor(options: FinalPosterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Posts `card` for job `jobId` unless the journal (or Discord, for a post under way) shows it was posted already.
   * `posted` is undefined when every place refused (logged). Rejects on a transient failure.
   */
  async post(
    jobId: string,
    target: CardTarget,
    card: FinalCard,
    start: DeliveryRecord,
    onPosted: OnPosted,
    /** The card's message id if already known (from a progress edit): spares asking Discord for it. */
    knownMessageId?: string,
  ): Promise<FinalPostResult> {
    let record = start;
    if (record.posted) return this.#pointed(jobId, target, record, knownMessageId);
    if (record.route !== undefined) {
      const found = await this.#lookFor(target, record);
      if (found) return this.#pointed(jobId, target, found.record, knownMessageId);
    }
    let refusedPlace: PostRoute | undefined;
    for (const step of this.#steps(target, card)) {
      // The place itself was refused: a smaller card would be refused there too.
      if (step.route === refusedPlace) continue;
      try {
        record = await this.#postStep(jobId, target, step, record, onPosted, knownMessageId);
        return this.#pointed(jobId, target, record, knownMessageId);
      } catch (error) {
        const kind = classifyFailure(error, step.card.files.length > 0);
        if (kind === 'transient') throw error;
        if (kind === 'place') refusedPlace = step.route;
        this.#options.logger.warn(
          { err: error, code: codeOf(error), jobId, route: step.route, files: step.card.files.length },
          'Discord refused a final card; trying the next way to reach the member',
        );
      }
    }
    this.#options.logger.error({ jobId, member: target.memberId }, 'no way left to tell a member the outcome of a job');
    return { posted: undefined, record };
  }

  /**
   * After the outcome went to the channel or a direct message: edits the card to say so, once (journaled). A card
   * that cannot be edited (gone, or no way to reach it) is left as it is; the member has the outcome all the same.
   */
  async #pointed(
    jobId: string,
    target: CardTarget,
    record: DeliveryRecord,
    knownMessageId: string | undefined,
  ): Promise<FinalPostResult> {
    const posted = postedOf(record);
    const route = record.route;
    if (posted === undefined || route === undefined || route === 'card' || record.cardPointed === true) {
      return { posted, record };
    }
    // The card is a Components V2 message for good: the pointer is one too.
    const body = editBodyOf(sentenceCard(text(target.locale, POINTERS[route])));
    const messageId = target.messageId ?? knownMessageId;
    const edits: (() => Promise<unknown>)[] = [];
    if (tokenAlive(target, this.#now())) {
      edits.push(() => this.#options.interactionRest.patch(originalRoute(target), { body, auth: false }));
    }
    // A token can die before its time: the card may still be edited by its id.
    if (messageId !== undefined && !target.webhookOnly) {
      edits.push(() => this.#options.rest.patch(Routes.channelMessage(target.channelId, messageId), { body }));
    }
    for (const [index, edit] of edits.entries()) {
      try {
        await edit();
        break;
      } catch (error) {
        this.#options.logger.info(
          { err: error, code: codeOf(error), jobId, route },
          'could not edit the card to say where the outcome went',
        );
        // A transient failure: the next delivery try edits it (the outcome itself is posted and journaled).
        if (index === edits.length - 1 && classifyFailure(error, false) === 'transient') return { posted, record };
      }
    }
    return { posted, record: await this.#options.journal.write(jobId, record, { cardPointed: true }) };
  }

  /** The places and bodies to try, in order. */
  #steps(target: CardTarget, card: FinalCard): Step[] {
    const bodies = card.withoutFiles ? [card.full, card.withoutFiles] : [card.full];
    const routes: PostRoute[] = [
      ...(tokenAlive(target, this.#now()) || target.messageId !== undefined ? ['card' as const] : []),
      // Where the bot is not (a user install), Discord refuses its channel posts: straight to a direct message.
      ...(target.webhookOnly ? [] : ['channel' as const]),
      'dm',
    ];
    return routes.flatMap((route) => bodies.map((body) => ({ route, card: body })));
  }

  async #postStep(
    jobId: string,
    target: CardTarget,
    step: Step,
    before: DeliveryRecord,
    onPosted: OnPosted,
    knownMessageId: string | undefined,
  ): Promise<DeliveryRecord> {
    const { journal, fault } = this.#options;
    // In the channel, the card mentions the member (a new message would otherwise go unnoticed).
    const card =
      step.route === 'channel'
        ? { ...step.card, components: prefixFirstText(step.card.components, `<@${target.memberId}> `) }
        : step.card;
    // What the card says identifies it when a try after a crash looks for it.
    const content = cardText(card.components);
    const place = await this.#placeOf(target, step.route, before, knownMessageId);
    // Recorded before the side effect: a crash after the post leaves a record that says where to look.
    let record = await journal.write(jobId, before, {
      route: step.route,
      channelId: place.channelId,
      messageId: place.messageId,
      content,
      posted: false,
    });
    fault('delivery:before-post');
    const message = await this.#send(target, { ...step, card }, place, record.nonce);
    fault('delivery:after-post');
    const posted = {
      messageId: message.id,
      channelId: message.channel_id ?? place.channelId,
      postedInChannel: step.route !== 'card',
    };
    const noted = await onPosted(posted);
    record = await journal.write(jobId, record, { posted: true, ...posted, ...noted });
    fault('delivery:after-post-recorded');
    return record;
  }

  /** The channel (and, for the card, the message) a step writes to. */
  async #placeOf(
    target: CardTarget,
    route: PostRoute,
    record: DeliveryRecord,
    knownMessageId: string | undefined,
  ): Promise<{ channelId: string; messageId?: string | undefined }> {
    if (route === 'channel') return { channelId: target.channelId };
    if (route === 'dm') {
      if (record.route === 'dm' && record.channelId) return { channelId: record.channelId };
      const channel = (await this.#options.rest.post(Routes.userChannels(), {
        body: { recipient_id: target.memberId },
      })) as { id: string };
      return { channelId: channel.id };
    }
    // The original response's id, learned now while the token lives: after it expires, only the id finds it again.
    const messageId = target.messageId ?? (record.route === 'card' ? record.messageId : undefined) ?? knownMessageId;
    if (messageId !== undefined || !tokenAlive(target, this.#now())) return { channelId: target.channelId, messageId };
    const original = (await this.#options.interactionRest.get(originalRoute(target), { auth: false })) as PostedMessage;
    return { channelId: original.channel_id ?? target.channelId, messageId: original.id };
  }

  async #send(
    target: CardTarget,
    step: Step,
    place: { channelId: string; messageId?: string | undefined },
    nonce: string,
  ): Promise<PostedMessage> {
    const { rest, interactionRest } = this.#options;
    const files = filesOf(step.card);
    if (step.route === 'card') {
      const options = { body: editBodyOf(step.card), files };
      if (tokenAlive(target, this.#now())) {
        return (await interactionRest.patch(originalRoute(target), { ...options, auth: false })) as PostedMessage;
      }
      return (await rest.patch(Routes.channelMessage(place.channelId, place.messageId!), options)) as PostedMessage;
    }
    const mention = step.route === 'channel' ? { allowed_mentions: { users: [target.memberId] } } : {};
    const body = { ...bodyOf(step.card), nonce, enforce_nonce: true, ...mention };
    return (await rest.post(Routes.channelMessages(place.channelId), { body, files })) as PostedMessage;
  }

  /** Looks for the post a previous try recorded as under way; the record marked posted when it exists. */
  async #lookFor(target: CardTarget, record: DeliveryRecord): Promise<{ record: DeliveryRecord } | undefined> {
    try {
      const message = await this.#find(target, record);
      if (message === undefined) return undefined;
      this.#options.logger.info({ message: message.id, route: record.route }, 'a final card was already posted');
      const posted = { posted: true, messageId: message.id, postedInChannel: record.route !== 'card' };
      return { record: { ...record, ...posted, channelId: message.channel_id ?? record.channelId } };
    } catch (error) {
      // Not readable (no Read Message History, the message is gone): post again; a nonce still guards new messages.
      this.#options.logger.info({ err: error, code: codeOf(error) }, 'could not look for an earlier final card');
      return undefined;
    }
  }

  async #find(target: CardTarget, record: DeliveryRecord): Promise<PostedMessage | undefined> {
    const { rest, interactionRest } = this.#options;
    // A card is known by what it says: its Text Displays (or, posted by a version before Components V2, its content).
    const ours = (message: PostedMessage) =>
      message.content === record.content || cardText(message.components ?? []) === record.content;
    if (record.route === 'card') {
      if (tokenAlive(target, this.#now())) {
        const original = await interactionRest
          .get(originalRoute(target), { auth: false })
          .then((message) => message as PostedMessage)
          // A token can die before its time (Discord ended the interaction): then the message is looked up by id.
          .catch((error: unknown) => {
            if (record.messageId === undefined || classifyFailure(error, false) !== 'place') throw error;
            return undefined;
          });
        if (original !== undefined) return ours(original) ? original : undefined;
      }
      if (record.messageId === undefined || record.channelId === undefined) return undefined;
      const message = (await rest.get(Routes.channelMessage(record.channelId, record.messageId))) as PostedMessage;
      return ours(message) ? message : undefined;
    }
    if (record.channelId === undefined) return undefined;
    // Messages since the first try, oldest first: ours is among the first few.
    const after = SnowflakeUtil.generate({ timestamp: record.since - 60_000 }).toString();
    const query = new URLSearchParams({ after, limit: '100' });
    const messages = (await rest.get(Routes.channelMessages(record.channelId), { query })) as PostedMessage[];
    return messages.find((message) => message.author?.bot === true && ours(message));
  }
}

function originalRoute(target: CardTarget): `/${string}` {
  return Routes.webhookMessage(target.applicationId!, target.interactionToken!, '@original');
}

function postedOf(record: DeliveryRecord): PostedCard | undefined {
  if (!record.posted || record.messageId === undefined || record.channelId === undefined) return undefined;
  return { messageId: record.messageId, channelId: record.channelId, postedInChannel: record.postedInChannel ?? false };
}
