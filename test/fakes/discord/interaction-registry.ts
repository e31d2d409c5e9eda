/**
 * Every interaction the fake sent and how the bot answered it, with Discord's clocks: the callback must come within
 * the acknowledgement deadline (3 s), and the token works for webhook calls for 15 minutes.
 */
import { randomBytes } from 'node:crypto';
import type { InteractionResponseType, InteractionType } from 'discord.js';
import type { InteractionPlace } from './installation.js';
import { errors } from './rest-types.js';

/** The bot's answer to an interaction (its callback). */
export interface InteractionCallback {
  readonly type: InteractionResponseType;
  /** The callback's `data` (message fields, modal, or autocomplete choices). */
  readonly data: Record<string, unknown> | null;
  readonly at: number;
}

/** One interaction and what became of it. */
export interface InteractionRecord {
  readonly id: string;
  readonly token: string;
  readonly type: InteractionType;
  /** The payload dispatched in INTERACTION_CREATE (set right after the record is made, as it carries the token). */
  payload: Record<string, unknown>;
  /** When the fake dispatched it (Discord's clocks start here); set again at dispatch when built ahead. */
  createdAt: number;
  readonly userId: string;
  readonly channelId: string;
  readonly guildId: string | null;
  readonly commandName: string | null;
  /** Its interaction context and the installations that authorised it. */
  readonly place: InteractionPlace;
  /** For component and modal interactions from a message: that message. */
  readonly sourceMessageId: string | null;
  callback: InteractionCallback | null;
  /** The message `@original` refers to (created by the callback, or the component's message). */
  originalMessageId: string | null;
  readonly followupIds: string[];
  /** Set by `FakeDiscord.expireInteraction` to end the token's life at once. */
  expired: boolean;
  /** How many connected bot sessions received INTERACTION_CREATE (0: no bot was there to answer). */
  deliveredTo: number;
}

/** Clocks of the interaction rules. */
export interface InteractionTimings {
  readonly ackDeadlineMs: number;
  readonly tokenLifetimeMs: number;
}

/** What a new record needs. */
export type NewInteraction = Omit<
  InteractionRecord,
  'token' | 'payload' | 'createdAt' | 'callback' | 'originalMessageId' | 'followupIds' | 'expired' | 'deliveredTo'
>;

/** Holds the interactions by id and by token. */
export class InteractionRegistry {
  private readonly byId = new Map<string, InteractionRecord>();
  private readonly byToken = new Map<string, InteractionRecord>();

  constructor(readonly timings: InteractionTimings) {}

  create(fields: NewInteraction): InteractionRecord {
    // Shaped like Discord's: base64url of "interaction:<id>:<secret>" (so it needs no escaping in a URL).
    const secret = randomBytes(48).toString('base64url');
    const token = Buffer.from(`interaction:${fields.id}:${secret}`).toString('base64url');
    const record: InteractionRecord = {
      ...fields,
      token,
      payload: {},
      createdAt: Date.now(),
      callback: null,
      originalMessageId: fields.sourceMessageId,
      followupIds: [],
      expired: false,
      deliveredTo: 0,
    };
    this.byId.set(record.id, record);
    this.byToken.set(token, record);
    return record;
  }

  get(id: string): InteractionRecord | undefined {
    return this.byId.get(id);
  }

  get all(): InteractionRecord[] {
    return [...this.byId.values()];
  }

  /** The interaction a callback names, if it may still be acknowledged; throws Discord's error otherwise. */
  forCallback(id: string, token: string, now: number): InteractionRecord {
    const record = this.byId.get(id);
    if (!record || record.token !== token) throw errors.unknownInteraction();
    if (record.callback) throw errors.alreadyAcknowledged();
    if (record.expired || now - record.createdAt > this.timings.ackDeadlineMs) throw errors.unknownInteraction();
    return record;
  }

  /** The interaction behind a webhook token, if the token is still valid; throws Discord's error otherwise. */
  forWebhook(token: string, now: number): InteractionRecord {
    const record = this.byToken.get(token);
    if (!record) throw errors.invalidWebhookToken();
    if (record.expired || now - record.createdAt > this.timings.tokenLifetimeMs) throw errors.invalidWebhookToken();
    return record;
  }
}
