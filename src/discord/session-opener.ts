/**
 * A finished generation is a session members refine by replying to its result: the chain of replies to the result
 * message. Opening it costs no Discord call (the store only), so a job costs nothing under Discord's global limit of
 * 50 requests per second: the card is the interaction's own response, which that limit does not count. A thread opens
 * only when a member asks for one (the card's "Refine in thread" button): it is started on the result message, so it
 * has the message's id, and every message in it refines the same session. A job started inside a session continues it.
 */
import { DiscordAPIError, RESTJSONErrorCodes, Routes, type REST } from 'discord.js';
import { UserFacingError } from '../errors.js';
import { text } from '../i18n/catalog.js';
import type { Logger } from '../logger.js';
import type { JobRecord } from '../jobs/model.js';
import { refineHelp, type Generation, type Sessions } from '../sessions/index.js';
import type { PostedCard } from './card-updater.js';
import { classifyFailure, codeOf } from './discord-errors.js';

/** What the finished card says about refining. */
export interface RefineOnCard {
  /** Lines for the card's text. */
  readonly notes: readonly string[];
  /** How to refine by replying, for the card's footer; absent where replies never reach the bot. */
  readonly refineHelp?: string | undefined;
  /** Whether the card offers to open a thread. */
  readonly threadButton: boolean;
}

/**
 * The reply grammar in one line for a card's footer, in plain words (Discord shows no formatting there): how members
 * learn that replying refines, with no message of its own.
 */
export function refineFooter(locale: string | null | undefined, ignorePrefix: string): string {
  return ignorePrefix === ''
    ? text(locale, 'card.refineNoChat')
    : text(locale, 'card.refine', { prefix: ignorePrefix });
}

/** How a job's finished card tells the member to refine: the reply grammar where replies reach the bot. */
export function refineOnCard(job: JobRecord, ignorePrefix: string): RefineOnCard {
  // Where only the webhook reaches, the session is still recorded (on the result message): the buttons and the Edit
  // form refine from it.
  // Where only the interaction webhook reaches (a user install where the bot is not), replies never reach the bot.
  if (job.delivery?.webhookOnly === true) {
    return { notes: [text(job.delivery.locale, 'note.editOnly')], threadButton: false };
  }
  const help = refineFooter(job.delivery?.locale, ignorePrefix);
  return { notes: [], refineHelp: help, threadButton: job.delivery?.threads === true };
}

/** A thread name may be at most 100 characters. */
export function threadNameFor(prompt: string): string {
  const name = prompt.replace(/\s+/g, ' ').trim() || 'comfycord session';
  return name.length <= 100 ? name : `${name.slice(0, 99)}…`;
}

/** Opens the session of each delivered result. */
export class SessionOpener {
  constructor(private readonly sessions: Sessions) {}

  /**
   * The session a job's result belongs to: the one the job continues (a refine, a rerun, `/imagine` in a session
   * thread), or a new one rooted at the posted result. Tried again (a delivery after a crash), it finds the session it
   * made and leaves it as members have changed it since.
   */
  async open(job: JobRecord, posted: PostedCard): Promise<string> {
    if (job.sessionId !== undefined) return job.sessionId;
    await this.sessions.ensureSession({
      id: posted.messageId,
      kind: 'reply-chain',
      ownerId: job.memberId,
      guildId: job.guildId,
      channelId: posted.channelId,
      workflow: job.workflow,
      settings: job.settings,
    });
    return posted.messageId;
  }
}

/** What opening a session thread needs. */
export interface SessionThreadDeps {
  readonly rest: REST;
  readonly sessions: Sessions;
  readonly logger: Logger;
  readonly ignorePrefix: string;
  /** The language of the member who asked for the thread, for its help. */
  readonly locale?: string | undefined;
}

/** The result message a member asked to open a thread on. */
export interface ResultMessage {
  readonly messageId: string;
  readonly channelId: string;
  /** Discord says the message already has a thread (its payload's `thread`). */
  readonly hasThread: boolean;
}

/**
 * Opens a thread on the result message of `generation`, in which every message refines the result's session, and
 * posts the two lines of help as its first message: two calls under the global limit, made because a member asked.
 * A message that has a thread already (opened by an earlier press, or by a member by hand) gets no second one: that
 * thread becomes the session's. Resolves with the thread's id; throws a UserFacingError when Discord refuses.
 */
export async function openSessionThread(
  deps: SessionThreadDeps,
  generation: Generation,
  result: ResultMessage,
): Promise<string> {
  const { rest, sessions, logger } = deps;
  await ensureSessionOf(sessions, generation, result);
  // Linked first: a crash right after Discord opened the thread leaves it working. Undone when Discord refuses.
  await sessions.linkThread(result.messageId);
  if (result.hasThread) return result.messageId;
  try {
    await rest.post(Routes.threads(result.channelId, result.messageId), {
      body: { name: threadNameFor(generation.settings.prompt), auto_archive_duration: 1440 },
    });
  } catch (error) {
    // A thread started from a message has the message's id: opened a moment ago by another press, help and all.
    if (!(error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage)) {
      if (classifyFailure(error, false) === 'transient') throw error;
      await sessions.linkThread(result.messageId, false);
      throw new UserFacingError(
        'thread-refused',
        'I cannot open a thread on this picture here; reply to it to refine it instead.',
        { cause: error, detail: `starting a thread on message ${result.messageId} failed (${codeOf(error)})` },
      );
    }
  }
  await greet(deps, result.messageId, logger);
  return result.messageId;
}

/**
 * Posts the help in a new session thread. The nonce (with `enforce_nonce`) is the message's: two presses at once, or a
 * press tried again within minutes, make Discord return the first help instead of posting a second.
 */
async function greet(deps: SessionThreadDeps, threadId: string, logger: Logger): Promise<void> {
  try {
    const body = { content: refineHelp(deps.ignorePrefix, deps.locale), nonce: `h${threadId}`, enforce_nonce: true };
    await deps.rest.post(Routes.channelMessages(threadId), { body });
  } catch (error) {
    // The thread works without its help; the card's footer says how to refine too.
    logger.warn({ err: error, code: codeOf(error), thread: threadId }, 'could not post the help in a session thread');
  }
}

/** The session of a result, made from its generation when there is none (a generation recorded without one). */
async function ensureSessionOf(sessions: Sessions, generation: Generation, result: ResultMessage): Promise<void> {
  if (await sessions.getSessionByMessage(result.messageId)) return;
  await sessions.ensureSession({
    id: result.messageId,
    kind: 'reply-chain',
    ownerId: generation.ownerId,
    guildId: generation.guildId,
    channelId: result.channelId,
    workflow: generation.workflow,
    settings: generation.settings,
    lastGenerationId: generation.id,
  });
}
