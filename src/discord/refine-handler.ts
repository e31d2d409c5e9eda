/**
 * Replies in a session refine its last generation (the grammar is in src/sessions/refine.ts). A session is the chain
 * of replies to a result message, and the threads members opened on its results (session-opener.ts). A reply to a
 * result stays where the member wrote it: the new status card is the bot's reply to the member's message, in the same
 * channel or thread, edited as the job moves. Image bots answer where they were asked; a member who wants the
 * conversation out of the channel asks for a thread with the card's button.
 *
 * Without the privileged MessageContent intent Discord sends no text for ordinary messages, but it still does for
 * messages that mention the bot: so mentioning the bot works everywhere, and plain replies work where the intent is on.
 */
import { Routes, type Message, type REST } from 'discord.js';
import { isUserFacing, sentenceFor, UserFacingError } from '../errors.js';
import { text } from '../i18n/catalog.js';
import type { Logger } from '../logger.js';
import { applyRefine, parseRefine, type Session } from '../sessions/index.js';
import { ownLorasOf } from '../workflows/lora-choices.js';
import type { GenerationSettings } from '../workflows/settings.js';
import { canStartThreadsIn, checkMessageAccess, isAgeRestricted } from './access.js';
import { bodyOf } from './card-updater.js';
import { pendingCard } from './cards.js';
import { planContextOf } from './plan-context.js';
import { attachmentData } from './received-interaction.js';
import { cardNonce, refineJobId, type ReceivedRefine } from './request-journal.js';
import { firstWorkflowOfKind, keepAccepted, planSettings } from '../workflows/generation-plan.js';
import { storeInputImage } from './input-images.js';
import type { BotServices, FinishContext } from './services.js';

/** Returns the `messageCreate` listener. */
export function createRefineHandler(services: BotServices, logger: Logger): (message: Message) => Promise<void> {
  return async (message) => {
    if (message.author.bot || message.system) return;
    const session = await findSession(message, services).catch((error: unknown) => {
      logger.error({ err: error, message: message.id }, 'could not look up the session of a message');
      return undefined;
    });
    if (!session) return;
    const log = logger.child({ message: message.id, member: message.author.id, session: session.id });
    let entry: ReceivedRefine | undefined;
    try {
      entry = await receiveRefine(message, services);
      if (entry) await finishRefine({ services, rest: message.client.rest, logger: log }, entry);
    } catch (error) {
      // Read only for a message that is a refine (most messages in a session thread are talk).
      const locale = await localeOf(session, message.guild?.preferredLocale, services).catch(() => undefined);
      const sentence = isUserFacing(error) ? sentenceFor(error, locale) : text(locale, 'error.generic');
      await tellRefineRefusal(message.client.rest, { messageId: message.id, channelId: message.channelId }, error, {
        sentence,
        logger: log,
        nonce: entry && refusalNonce(entry),
      });
    } finally {
      // Answered (queued, or told why not): the entry has served.
      const forget = entry && services.requests.remove(entry.id);
      await forget?.catch((error: unknown) => log.warn({ err: error }, 'could not forget a refine'));
    }
  };
}

async function findSession(message: Message, services: BotServices): Promise<Session | undefined> {
  if (message.channel.isThread()) {
    const session = await services.sessions.getSessionByThread(message.channelId);
    if (session) return session;
  }
  const repliedTo = message.reference?.messageId;
  return repliedTo === undefined ? undefined : services.sessions.getSessionByMessage(repliedTo);
}

/** The session of a written-down refine, found as its message's was. */
async function sessionOf(entry: ReceivedRefine, services: BotServices): Promise<Session | undefined> {
  if (entry.inThread) {
    const session = await services.sessions.getSessionByThread(entry.channelId);
    if (session) return session;
  }
  return entry.repliedTo === undefined ? undefined : services.sessions.getSessionByMessage(entry.repliedTo);
}

/**
 * The language to answer a reply in: a message carries none, so the one the member's last picture of the session was
 * asked for in (an interaction's locale), else the server's own.
 */
async function localeOf(
  session: Session,
  guildLocale: string | undefined,
  services: BotServices,
): Promise<string | undefined> {
  const last =
    session.lastGenerationId === undefined ? undefined : await services.jobs.findJob(session.lastGenerationId);
  return last?.delivery?.locale ?? guildLocale;
}

/** The language a written-down refine is answered in (as `localeOf`, its session found again). */
export async function localeOfRefine(entry: ReceivedRefine, services: BotServices): Promise<string | undefined> {
  const session = await sessionOf(entry, services);
  return session === undefined ? entry.guildLocale : localeOf(session, entry.guildLocale, services);
}

/**
 * Checks a reply to a session (what needs no I/O) and writes it down, the first store write once it is known to be a
 * refine: a process killed before it loses the reply (Discord does not send a message again), one killed after it
 * leaves an entry a live process finishes. Undefined for talk that is no refine.
 */
async function receiveRefine(message: Message, services: BotServices): Promise<ReceivedRefine | undefined> {
  const attachment = message.attachments.find((file) => file.contentType?.startsWith('image/') ?? true);
  const text = withoutBotMention(message);
  const parsed = parseRefine(text, {
    hasImage: attachment !== undefined,
    ignorePrefix: services.config.refineIgnorePrefix,
  });
  if (parsed.kind === 'ignore') return undefined;
  checkMessageAccess(message, services.config.limits);
  if (parsed.kind === 'error') throw new UserFacingError('bad-flag', parsed.sentence);
  const entry: ReceivedRefine = {
    kind: 'refine',
    id: refineJobId(message.id),
    memberId: message.author.id,
    guildId: message.guildId ?? undefined,
    channelId: message.channelId,
    ageRestricted: isAgeRestricted(message.channel),
    receivedAt: Date.now(),
    messageId: message.id,
    inThread: message.channel.isThread(),
    repliedTo: message.reference?.messageId,
    text,
    attachment: attachment && attachmentData(attachment),
    threads: canStartThreadsIn(message),
    guildLocale: message.guild?.preferredLocale,
  };
  await services.requests.write(entry);
  services.fault('refine:journaled');
  return entry;
}

/**
 * A refine from its journal entry (right after it was written, or in a replay): the session's settings changed as the
 * reply says, the image kept, the plan; then the status card posted in reply (with a nonce, so a replay that posts it
 * again gets the same message) and noted in the entry; then the job queued under the entry's id.
 */
export async function finishRefine({ services, rest, logger }: FinishContext, entry: ReceivedRefine): Promise<void> {
  const session = await sessionOf(entry, services);
  if (!session) throw new Error(`the session of refine ${entry.messageId} is gone`);
  const parsed = parseRefine(entry.text, {
    hasImage: entry.attachment !== undefined,
    ignorePrefix: services.config.refineIgnorePrefix,
  });
  if (parsed.kind === 'ignore') return;
  if (parsed.kind === 'error') throw new UserFacingError('bad-flag', parsed.sentence);
  const locale = await localeOf(session, entry.guildLocale, services);

  const pictureWorkflow = services.workflows.get(session.settings.workflow ?? '');
  let settings: GenerationSettings = applyRefine(session.settings, parsed, ownLorasOf(pictureWorkflow));
  const image = entry.attachment
    ? await storeInputImage(
        entry.attachment,
        services.inputs,
        services.config.limits.attachmentBytes,
        services.config.limits.imagePixels,
      )
    : undefined;
  const previousInput = image ? undefined : await inputOfLastGeneration(session, services);
  const inputImage = image ? { path: image.path, filename: image.filename } : previousInput;
  const context = planContextOf(services, entry.ageRestricted);
  if (image && parsed.settings.workflow === undefined && !isImageToImage(settings.workflow, services)) {
    // An image on a text-to-image session means "start from this picture": let the plan pick image-to-image.
    const { workflow: _workflow, ...rest } = settings;
    const imageWorkflow = firstWorkflowOfKind('image-to-image', context);
    settings = imageWorkflow ? keepAccepted({ ...rest, workflow: imageWorkflow.name }, imageWorkflow) : rest;
  }
  const plan = planSettings(settings, {}, inputImage !== undefined, context);
  if (!plan.ok) throw new UserFacingError(plan.identifier, plan.sentences);

  const status = entry.statusMessageId ?? (await postStatus(rest, entry, plan.settings, locale));
  services.fault('refine:card-posted');
  if (entry.statusMessageId === undefined) {
    // Not written, a replay posts the card again and Discord answers with this one (the nonce, for a few minutes).
    await services.requests
      .note(entry.id, { statusMessageId: status })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not note a refine’s status card'));
  }
  services.fault('refine:card-noted');
  const job = await services.jobs
    .enqueue({
      id: entry.id,
      memberId: entry.memberId,
      guildId: entry.guildId,
      channelId: entry.channelId,
      sessionId: session.id,
      settings: plan.settings,
      inputImage,
      delivery: {
        tokenExpiresAt: 0,
        statusMessageId: status,
        channelId: entry.channelId,
        threads: entry.threads,
        ...(locale === undefined ? {} : { locale }),
      },
    })
    .catch(async (error: unknown) => {
      // A refused job never gets a card update: remove its "Starting…" card, and the refusal is the answer.
      await rest
        .delete(Routes.channelMessage(entry.channelId, status))
        .catch((deleteError: unknown) => logger.warn({ err: deleteError }, 'could not remove a refused refine’s card'));
      throw error;
    });
  logger.info({ job: job.id }, 'refine queued');
}

/** Posts the status card as a reply to the member's message; the presenter edits it from then on. */
async function postStatus(
  rest: REST,
  entry: ReceivedRefine,
  settings: GenerationSettings,
  locale: string | undefined,
): Promise<string> {
  const card = pendingCard({
    prompt: settings.prompt,
    workflow: settings.workflow ?? '',
    ...(locale === undefined ? {} : { locale }),
  });
  const posted = (await rest.post(Routes.channelMessages(entry.channelId), {
    body: {
      ...bodyOf(card),
      message_reference: { message_id: entry.messageId, fail_if_not_exists: false },
      allowed_mentions: { parse: [] },
      // Posted again by a replay (killed before its id was noted), Discord returns this first card.
      nonce: cardNonce(entry),
      enforce_nonce: true,
    },
  })) as { id: string };
  return posted.id;
}

/** The nonce of the refusal a written-down refine gets, so one told again by a replay is one message. */
export function refusalNonce(entry: ReceivedRefine): string {
  return `rx-${entry.id}`;
}

/** How a refusal is told. */
interface RefusalTelling {
  readonly sentence: string;
  readonly logger: Logger;
  readonly nonce?: string | undefined;
}

/** Tells the member, in reply to their message, why a refine was refused (live, and in a replay). */
export async function tellRefineRefusal(
  rest: REST,
  place: { readonly messageId: string; readonly channelId: string },
  error: unknown,
  { sentence, logger, nonce }: RefusalTelling,
): Promise<void> {
  if (isUserFacing(error)) logger.info({ err: error, reason: error.identifier }, 'refine refused');
  else logger.error({ err: error }, 'refine failed');
  await rest
    .post(Routes.channelMessages(place.channelId), {
      body: {
        content: `❌ ${sentence}`,
        message_reference: { message_id: place.messageId, fail_if_not_exists: false },
        allowed_mentions: { parse: [], replied_user: false },
        ...(nonce === undefined ? {} : { nonce, enforce_nonce: true }),
      },
    })
    .catch((replyError: unknown) => logger.warn({ err: replyError }, 'could not tell the member why a refine failed'));
}

async function inputOfLastGeneration(session: Session, services: BotServices) {
  if (session.lastGenerationId === undefined) return undefined;
  const job = await services.jobs.findJob(session.lastGenerationId);
  return job?.inputImage;
}

function isImageToImage(workflow: string | undefined, services: BotServices): boolean {
  return workflow !== undefined && services.workflows.get(workflow)?.kind === 'image-to-image';
}

function withoutBotMention(message: Message): string {
  const botId = message.client.user.id;
  return message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ').trim();
}
