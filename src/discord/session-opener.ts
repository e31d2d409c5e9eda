/**
 * A finished generation becomes a session members refine by replying: a thread started on the result (named after the
 * prompt, opened by two lines of help), or where threads are impossible (DMs, no permission, already inside a thread
 * that is not a session) the chain of replies to the result message. A job started inside a session continues it.
 */
import { DiscordAPIError, RESTJSONErrorCodes, Routes, type REST } from 'discord.js';
import { text } from '../i18n/catalog.js';
import type { Logger } from '../logger.js';
import type { JobRecord } from '../jobs/model.js';
import { refineHelp, type Sessions } from '../sessions/index.js';
import type { PostedCard } from './card-updater.js';

/** How a job's result will be refined, decided before the card is posted so the card can say so. */
export interface SessionPlan {
  readonly mode: 'continue' | 'thread' | 'reply-chain';
  /** Lines for the finished card (e.g. how to refine without a thread). */
  readonly notes: readonly string[];
}

/** The session a result belongs to, and whether `open` just started its thread (which `greet` then opens). */
export interface OpenedSession {
  readonly id: string;
  readonly newThread: boolean;
}

/** A thread name may be at most 100 characters. */
export function threadNameFor(prompt: string): string {
  const name = prompt.replace(/\s+/g, ' ').trim() || 'comfycord session';
  return name.length <= 100 ? name : `${name.slice(0, 99)}…`;
}

export class SessionOpener {
  constructor(
    private readonly rest: REST,
    private readonly sessions: Sessions,
    private readonly logger: Logger,
    private readonly ignorePrefix: string,
  ) {}

  /** Decides where the session of a job's result lives. */
  plan(job: JobRecord): SessionPlan {
    // Where only the webhook reaches, the session is still recorded (on the result message): the buttons and the Edit
    // form refine from it.
    const webhookOnly = job.delivery?.webhookOnly === true;
    const editOnly = text(job.delivery?.locale, 'note.editOnly');
    if (job.sessionId !== undefined) return { mode: 'continue', notes: webhookOnly ? [editOnly] : [] };
    if (job.delivery?.threads === true) return { mode: 'thread', notes: [] };
    return { mode: 'reply-chain', notes: [webhookOnly ? editOnly : text(job.delivery?.locale, 'note.replyChain')] };
  }

  /**
   * Opens (or continues) the session on the posted result. A new thread stays silent until `greet`: members answer
   * its help at once, so the help waits until the generation is recorded in the session.
   */
  async open(job: JobRecord, posted: PostedCard, prompt: string, plan: SessionPlan): Promise<OpenedSession> {
    if (plan.mode === 'continue') return { id: job.sessionId!, newThread: false };
    if (plan.mode === 'thread') {
      const threadId = await this.#startThread(posted, prompt);
      if (threadId) return { id: await this.#create(job, threadId, 'thread', posted.channelId), newThread: true };
    }
    return { id: await this.#create(job, posted.messageId, 'reply-chain', posted.channelId), newThread: false };
  }

  /**
   * Posts the two lines of help in a session thread `open` just started. The nonce (with `enforce_nonce`) makes
   * Discord return the first copy instead of posting a second when a delivery is tried again within minutes.
   */
  async greet(threadId: string, nonce?: string): Promise<void> {
    try {
      const body = { content: refineHelp(this.ignorePrefix), ...(nonce ? { nonce, enforce_nonce: true } : {}) };
      await this.rest.post(Routes.channelMessages(threadId), { body });
    } catch (error) {
      // The thread works without its help; the member still sees the result and can reply.
      const code = error instanceof DiscordAPIError ? error.code : undefined;
      this.logger.warn({ err: error, code, thread: threadId }, 'could not post the help in a session thread');
    }
  }

  async #startThread(posted: PostedCard, prompt: string): Promise<string | undefined> {
    try {
      const thread = (await this.rest.post(Routes.threads(posted.channelId, posted.messageId), {
        body: { name: threadNameFor(prompt), auto_archive_duration: 1440 },
      })) as { id: string };
      return thread.id;
    } catch (error) {
      // Started by an earlier try of this delivery (the bot died before recording it): a thread started from a
      // message has the message's id.
      if (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage) {
        return posted.messageId;
      }
      // Permissions can change between the command and its result; a reply chain still lets people refine.
      const code = error instanceof DiscordAPIError ? error.code : undefined;
      this.logger.warn(
        { err: error, code, message: posted.messageId },
        'could not start a session thread; using replies',
      );
      return undefined;
    }
  }

  async #create(job: JobRecord, id: string, kind: 'thread' | 'reply-chain', channelId: string): Promise<string> {
    await this.sessions.createSession({
      id,
      kind,
      ownerId: job.memberId,
      guildId: job.guildId,
      channelId,
      workflow: job.workflow,
      settings: job.settings,
    });
    return id;
  }
}
