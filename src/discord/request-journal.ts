/**
 * The journal of received requests: what a member asked for (an `/imagine`, a Reroll, Vary, Upscale or Edit, a reply
 * that refines), written down before the bot answers it and removed once its job is written or the member was told
 * why not. Between the two the process reads defaults, plans, downloads and keeps an attached image; a process killed
 * there (SIGKILL: no shutdown code runs) would lose the request with nothing durable saying it existed, and the member
 * would watch "thinking…" until the token died. A live process finishes what a dead one left (request-replay.ts).
 *
 * An entry holds plain data only (no discord.js object): the member, the place, how to reach them again (the
 * interaction's webhook token, the status card of a reply), what they asked for (the prompt and options, the generation
 * and the change, the attached image's URL), when, and the id its job gets, chosen up front so that finishing an entry
 * twice makes one job (intake's `takeRequest` returns the job already written under that id).
 *
 * Retention: an entry is removed once its request is answered; one nothing could finish expires after
 * `REQUEST_TTL_MS` (a day: interaction tokens live 15 minutes, and no replay finishes a request that old).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UserFacingError } from '../errors.js';
import { deliveryInfoSchema } from '../jobs/model.js';
import { processLifeSchema, type ProcessLife } from '../store/process-lives.js';
import type { Collection, Index, Store } from '../store/store.js';
import { loraChoiceSchema } from '../workflows/settings.js';

/** How long an entry nobody finished is kept. */
export const REQUEST_TTL_MS = 24 * 60 * 60 * 1000;

const LIST_KEY = 'all';

/** An image a member attached, as Discord describes it (downloaded only when the request is finished). */
export const attachmentInfoSchema = z.object({
  url: z.string(),
  name: z.string(),
  size: z.number(),
  contentType: z.string().nullable(),
});

/** The slash command's options other than the prompt, as read (validated again when planned). */
const optionsSchema = z.object({
  negative: z.string().optional(),
  workflow: z.string().optional(),
  aspect: z.string().optional(),
  seed: z.number().optional(),
  count: z.number().optional(),
  checkpoint: z.string().optional(),
  loras: z.array(loraChoiceSchema).optional(),
});

/** Who asked, where, when, and the job id their request gets. */
const commonSchema = z.object({
  id: z.string().regex(/^[\w-]+$/),
  memberId: z.string(),
  guildId: z.string().optional(),
  channelId: z.string(),
  /** Whether adult workflows may run where it was asked (an age-restricted channel). */
  ageRestricted: z.boolean(),
  receivedAt: z.number(),
  /**
   * The fleet process life that wrote it (process-lives.ts): another process finishes it once that life is over.
   * Unset on SQLite, and in entries of earlier releases (finished once older than the intake's grace).
   */
  writer: processLifeSchema.optional(),
});

/** An interaction's own part: its id, how its card is reached, and whether it was acknowledged. */
const interactionSchema = commonSchema.extend({
  interactionId: z.string(),
  delivery: deliveryInfoSchema,
  /** Asked inside a thread (an `/imagine` there continues the thread's session). */
  inThread: z.boolean(),
  /** Set once the interaction was deferred: the member sees "thinking…" and waits for a card. */
  acknowledgedAt: z.number().optional(),
});

const imagineSchema = interactionSchema.extend({
  kind: z.literal('imagine'),
  text: z.string(),
  options: optionsSchema,
  attachment: attachmentInfoSchema.optional(),
});

/** A Reroll, Vary, Upscale or Edit: a new generation from an old one, with a change. */
const rerunSchema = interactionSchema.extend({
  kind: z.literal('rerun'),
  generationId: z.string(),
  change: z.object({
    kind: z.enum(['image-to-image', 'upscale']).optional(),
    prompt: z.string().optional(),
    negative: z.string().optional(),
    aspect: z.string().optional(),
    seed: z.number().optional(),
    /** An image the member uploaded in the Edit form. */
    upload: attachmentInfoSchema.optional(),
    /** One of the result message's pictures (Vary N, Upscale N). */
    resultImage: attachmentInfoSchema.optional(),
  }),
});

/** A reply that refines a session's last picture. */
const refineSchema = commonSchema.extend({
  kind: z.literal('refine'),
  messageId: z.string(),
  /** How its session was found: the thread it was written in, or the message it replies to. */
  inThread: z.boolean(),
  repliedTo: z.string().optional(),
  /** The reply's words without the bot's mention. */
  text: z.string(),
  attachment: attachmentInfoSchema.optional(),
  /** Whether the bot may start threads where the card is. */
  threads: z.boolean(),
  /** The server's language, when the member's cannot be read from their last picture. */
  guildLocale: z.string().optional(),
  /** The status card posted in reply, once it exists (a replay edits it rather than posting another). */
  statusMessageId: z.string().optional(),
});

export const receivedRequestSchema = z.discriminatedUnion('kind', [imagineSchema, rerunSchema, refineSchema]);
export type ReceivedRequest = z.infer<typeof receivedRequestSchema>;
export type ReceivedImagine = z.infer<typeof imagineSchema>;
export type ReceivedRerun = z.infer<typeof rerunSchema>;
export type ReceivedRefine = z.infer<typeof refineSchema>;
export type ReceivedInteraction = ReceivedImagine | ReceivedRerun;
export type AttachmentData = z.infer<typeof attachmentInfoSchema>;

/** The received requests not yet answered, in the store. */
export class RequestJournal {
  readonly #entries: Collection<ReceivedRequest>;
  readonly #listed: Index;
  readonly #writer: ProcessLife | undefined;

  /** `writer`: this process's life in a fleet, named in every entry it writes. */
  constructor(store: Store, writer?: ProcessLife) {
    this.#entries = store.collection('received-requests', receivedRequestSchema, { version: 1 });
    this.#listed = store.index('received-requests');
    this.#writer = writer;
  }

  /**
   * Writes the request down (before the interaction is acknowledged, or a reply's card posted), naming this process's
   * life. Two store writes, about 0.1 ms each on SQLite and 0.2 ms on Redis: nothing beside Discord's 3 s to
   * acknowledge.
   */
  async write(request: ReceivedRequest): Promise<void> {
    const entry = this.#writer === undefined ? request : { ...request, writer: this.#writer };
    try {
      await this.#entries.set(entry.id, entry, REQUEST_TTL_MS);
      await this.#listed.add(LIST_KEY, entry.id);
    } catch (error) {
      throw new UserFacingError('store-unavailable', 'The bot could not save your job; please try again in a minute.', {
        cause: error,
        detail: `writing received request ${entry.id} failed: ${String(error)}`,
      });
    }
  }

  /** Changes an entry still there (an entry already removed stays removed). */
  async note(id: string, change: Partial<ReceivedRequest>): Promise<void> {
    await this.#entries.update(
      id,
      (current) => current && receivedRequestSchema.parse({ ...current, ...change }),
      REQUEST_TTL_MS,
    );
  }

  /** The entry, or undefined once it was removed or expired. */
  get(id: string): Promise<ReceivedRequest | undefined> {
    return this.#entries.get(id);
  }

  /** Removes an answered request. */
  async remove(id: string): Promise<void> {
    await this.#listed.remove(LIST_KEY, id);
    await this.#entries.delete(id);
  }

  /** Every entry still to answer, oldest first; ids whose entry expired or cannot be read leave the list. */
  async list(): Promise<ReceivedRequest[]> {
    const entries: ReceivedRequest[] = [];
    for (const id of await this.#listed.list(LIST_KEY)) {
      const entry = await this.#entries.get(id);
      if (entry === undefined) await this.#listed.remove(LIST_KEY, id);
      else entries.push(entry);
    }
    return entries.sort((a, b) => a.receivedAt - b.receivedAt);
  }
}

/**
 * The job id of a reply that refines, from the message's id: a message handled twice (received again, or finished by a
 * replay) is one job.
 */
export function refineJobId(messageId: string): string {
  return createHash('sha256').update(`refine:${messageId}`).digest('base64url').slice(0, 12);
}

/** The nonce of a request's status card (`enforce_nonce`): a post made again returns the first. */
export function cardNonce(entry: ReceivedRequest): string {
  return `rq-${entry.id}`;
}
