/**
 * What the Discord face has done to deliver a job's outcome, written before and after each step that Discord or the
 * store sees: the post about to be made (where, and what it says), the message once it exists, the generation recorded
 * in its session. A delivery tried again (after a crash, a restart, a failed store write) reads it and
 * picks up after the last step it knows finished; for a post it cannot know about (made, then killed before the
 * record), it looks in Discord before posting again (final-post.ts).
 *
 * Retention: a record lives for `JOURNAL_TTL_MS` (7 days) after its last write; deliveries are retried for at most a
 * day (result-delivery.ts), so a record outlives every try that could read it.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Collection, Store } from '../store/store.js';

/** How long a delivery record is kept after its last write. */
export const JOURNAL_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Where a post went: the card itself (edited), a new message in the channel, or a direct message. */
export const postRouteSchema = z.enum(['card', 'channel', 'dm']);
export type PostRoute = z.infer<typeof postRouteSchema>;

const deliveryRecordSchema = z.object({
  /** Sent with new messages (`enforce_nonce`), so Discord itself refuses a second copy for a few minutes. */
  nonce: z.string().max(25),
  /** When the first post was tried: messages older than this are not ours to find. */
  since: z.number(),
  /** The post under way or made: where, in which channel, as which message, saying what. */
  route: postRouteSchema.optional(),
  channelId: z.string().optional(),
  messageId: z.string().optional(),
  content: z.string().optional(),
  /** True once the post is known to exist (`messageId` and `channelId` name it). */
  posted: z.boolean(),
  /** True when the post is a new message in the channel rather than the card (the token had expired). */
  postedInChannel: z.boolean().optional(),
  /** The session the generation was recorded with (`null`: recorded without a session). */
  recordedSession: z.string().nullable().optional(),
  /** True once the card says where the outcome went (after a post in the channel or a direct message). */
  cardPointed: z.boolean().optional(),
  // Records of earlier versions may also hold `session` and `greeted` (the thread each result opened): left unread.
});
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

/** The delivery records, one per job. */
export class DeliveryJournal {
  readonly #records: Collection<DeliveryRecord>;

  constructor(store: Store) {
    this.#records = store.collection('card-deliveries', deliveryRecordSchema, { version: 1 });
  }

  /** The job's record, or a fresh one (not yet written). */
  async open(jobId: string, now = Date.now()): Promise<DeliveryRecord> {
    return (await this.#records.get(jobId)) ?? { nonce: newNonce(), since: now, posted: false };
  }

  /** Writes the job's record with `change` applied; resolves with the new record. */
  async write(jobId: string, record: DeliveryRecord, change: Partial<DeliveryRecord>): Promise<DeliveryRecord> {
    const next = { ...record, ...change };
    await this.#records.set(jobId, next, JOURNAL_TTL_MS);
    return next;
  }
}

/** 20 url-safe characters: Discord takes nonces of up to 25. */
function newNonce(): string {
  return randomBytes(15).toString('base64url');
}
