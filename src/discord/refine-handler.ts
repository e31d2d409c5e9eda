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
import { Routes, type Message } from 'discord.js';
import { isUserFacing, sentenceFor, UserFacingError } from '../errors.js';
import { text } from '../i18n/catalog.js';
import type { Logger } from '../logger.js';
import { applyRefine, parseRefine, type Session } from '../sessions/index.js';
import { ownLorasOf } from '../workflows/lora-choices.js';
import type { GenerationSettings } from '../workflows/settings.js';
import { canStartThreadsIn, checkMessageAccess } from './access.js';
import { bodyOf } from './card-updater.js';
import { pendingCard } from './cards.js';
import { planContext } from './plan-context.js';
import { firstWorkflowOfKind, keepAccepted, planSettings } from '../workflows/generation-plan.js';
import { storeInputImage } from './input-images.js';
import type { BotServices } from './services.js';

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
    // Read once, and only for a message that is a refine (most messages in a session thread are talk).
    let locale: Promise<string | undefined> | undefined;
    const localeOnce = () => (locale ??= localeOf(message, session, services).catch(() => undefined));
    try {
      await refine(message, session, services, log, localeOnce);
    } catch (error) {
      if (isUserFacing(error)) log.info({ err: error, reason: error.identifier }, 'refine refused');
      else log.error({ err: error }, 'refine failed');
      const sentence = isUserFacing(error)
        ? sentenceFor(error, await localeOnce())
        : text(await localeOnce(), 'error.generic');
      await message
        .reply({ content: `❌ ${sentence}`, allowedMentions: { repliedUser: false } })
        .catch((replyError: unknown) => {
          log.warn({ err: replyError }, 'could not tell the member why a refine failed');
        });
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

/**
 * The language to answer a reply in: a message carries none, so the one the member's last picture of the session was
 * asked for in (an interaction's locale), else the server's own.
 */
async function localeOf(message: Message, session: Session, services: BotServices): Promise<string | undefined> {
  const last =
    session.lastGenerationId === undefined ? undefined : await services.jobs.findJob(session.lastGenerationId);
  return last?.delivery?.locale ?? message.guild?.preferredLocale;
}

async function refine(
  message: Message,
  session: Session,
  services: BotServices,
  logger: Logger,
  localeOnce: () => Promise<string | undefined>,
): Promise<void> {
  const attachment = message.attachments.find((file) => file.contentType?.startsWith('image/') ?? true);
  const text = withoutBotMention(message);
  const parsed = parseRefine(text, {
    hasImage: attachment !== undefined,
    ignorePrefix: services.config.refineIgnorePrefix,
  });
  if (parsed.kind === 'ignore') return;
  const locale = await localeOnce();
  checkMessageAccess(message, services.config.limits);
  if (parsed.kind === 'error') throw new UserFacingError('bad-flag', parsed.sentence);

  const pictureWorkflow = services.workflows.get(session.settings.workflow ?? '');
  let settings: GenerationSettings = applyRefine(session.settings, parsed, ownLorasOf(pictureWorkflow));
  const image = attachment
    ? await storeInputImage(
        attachment,
        services.inputs,
        services.config.limits.attachmentBytes,
        services.config.limits.imagePixels,
      )
    : undefined;
  const previousInput = image ? undefined : await inputOfLastGeneration(session, services);
  const inputImage = image ? { path: image.path, filename: image.filename } : previousInput;
  const context = planContext(services, message.channel);
  if (image && parsed.settings.workflow === undefined && !isImageToImage(settings.workflow, services)) {
    // An image on a text-to-image session means "start from this picture": let the plan pick image-to-image.
    const { workflow: _workflow, ...rest } = settings;
    const imageWorkflow = firstWorkflowOfKind('image-to-image', context);
    settings = imageWorkflow ? keepAccepted({ ...rest, workflow: imageWorkflow.name }, imageWorkflow) : rest;
  }
  const plan = planSettings(settings, {}, inputImage !== undefined, context);
  if (!plan.ok) throw new UserFacingError(plan.identifier, plan.sentences);

  const status = await postStatus(message, plan.settings, locale);
  const job = await services.jobs
    .enqueue({
      memberId: message.author.id,
      guildId: message.guildId ?? undefined,
      channelId: message.channelId,
      sessionId: session.id,
      settings: plan.settings,
      inputImage,
      delivery: {
        tokenExpiresAt: 0,
        statusMessageId: status,
        channelId: message.channelId,
        threads: canStartThreadsIn(message),
        ...(locale === undefined ? {} : { locale }),
      },
    })
    .catch(async (error: unknown) => {
      // A refused job never gets a card update: remove its "Starting…" card, and the refusal is the answer.
      await message.client.rest
        .delete(Routes.channelMessage(message.channelId, status))
        .catch((deleteError: unknown) => logger.warn({ err: deleteError }, 'could not remove a refused refine’s card'));
      throw error;
    });
  logger.info({ job: job.id }, 'refine queued');
}

/** Posts the status card as a reply to the member's message; the presenter edits it from then on. */
async function postStatus(message: Message, settings: GenerationSettings, locale: string | undefined): Promise<string> {
  const card = pendingCard({
    prompt: settings.prompt,
    workflow: settings.workflow ?? '',
    ...(locale === undefined ? {} : { locale }),
  });
  const posted = (await message.client.rest.post(Routes.channelMessages(message.channelId), {
    body: {
      ...bodyOf(card),
      message_reference: { message_id: message.id, fail_if_not_exists: false },
      allowed_mentions: { parse: [] },
    },
  })) as { id: string };
  return posted.id;
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
