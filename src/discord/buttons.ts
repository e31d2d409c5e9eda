/**
 * The buttons on status cards and results, and the Edit modal. Custom ids are static (`kind:id[:extra]`) and every
 * handler loads what it needs from the store, so buttons keep working on old messages and after a restart.
 */
import {
  DiscordAPIError,
  MessageFlags,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  type Attachment,
  type ButtonInteraction,
  type MessageComponentInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { UserFacingError } from '../errors.js';
import { text } from '../i18n/catalog.js';
import type { Generation } from '../sessions/index.js';
import type { GenerationSettings } from '../workflows/settings.js';
import { botIsPresent, canStartThreads, checkAccess } from './access.js';
import { parseButtonId } from './cards.js';
import { planContextOf } from './plan-context.js';
import { firstWorkflowOfKind, keepAccepted, planSettings, type PlanContext } from '../workflows/generation-plan.js';
import { editForm, readEditForm } from './edit-form.js';
import { checkAttachment, storeInputImage, type AttachmentInfo } from './input-images.js';
import { answerFromJournal, attachmentData, receivedFrom } from './received-interaction.js';
import type { ReceivedRerun } from './request-journal.js';
import type { ComponentHandlers } from './router.js';
import type { BotServices, FinishContext } from './services.js';
import { newJobId } from '../jobs/model.js';
import { openSessionThread } from './session-opener.js';
import type { CommandContext } from '../commands/command.js';
import { showHistoryPage } from '../commands/history.js';

const GONE = 'That picture is no longer in my records, so I cannot do that; start again with /imagine.';

export const componentHandlers: ComponentHandlers = {
  async button(interaction, context) {
    const parsed = parseButtonId(interaction.customId);
    if (!parsed) throw new Error(`unknown button ${interaction.customId}`);
    const { services } = context;
    switch (parsed.kind) {
      case 'cancel':
        await interaction.deferUpdate();
        return services.jobs.cancel(parsed.id, interaction.user.id);
      case 'delete':
        return deleteResult(interaction, parsed.id, services);
      case 'edit':
        // Refuse before the form: its submission would be refused anyway, after the member filled it in.
        checkAccess(interaction, services.config.limits);
        return interaction.showModal(editForm(await loadGeneration(services, parsed.id), interaction.locale));
      case 'reroll':
        return rerun(interaction, context, parsed.id, () => ({}));
      case 'vary':
        return rerun(interaction, context, parsed.id, () => ({
          image: Number(parsed.extra ?? 0),
          kind: 'image-to-image',
        }));
      case 'upscale':
        return rerun(interaction, context, parsed.id, () => ({ image: Number(parsed.extra ?? 0), kind: 'upscale' }));
      case 'history':
        return showHistoryPage(interaction, services.sessions, parsed.id, Number(parsed.extra ?? 1));
      case 'thread':
        return openThread(interaction, context, parsed.id);
    }
  },

  async modal(interaction, context) {
    const parsed = parseButtonId(interaction.customId);
    if (parsed?.kind !== 'edit') throw new Error(`unknown modal ${interaction.customId}`);
    // Read and checked before deferring: a bad seed or a file that is no image is refused at once, privately.
    const form = readEditForm(interaction);
    if (form.upload) checkAttachment(form.upload, context.services.config.limits.attachmentBytes);
    return rerun(interaction, context, parsed.id, () => form);
  },
};

interface RerunChange {
  /** Use this attachment (by index) of the result message as the input image. */
  readonly image?: number;
  /** Run the first workflow of this kind instead of the generation's own. */
  readonly kind?: 'image-to-image' | 'upscale';
  readonly prompt?: string;
  readonly negative?: string;
  /** A new aspect ratio (the old size is dropped); the seed to use instead of a fresh one. */
  readonly aspect?: string | undefined;
  readonly seed?: number | undefined;
  /** An image the member uploaded in the Edit form: image-to-image from it. */
  readonly upload?: Attachment | undefined;
}

/**
 * A new generation from an old one: checked and written down as it arrived (the result's picture it names included),
 * then acknowledged, then finished by `finishRerun` (received-interaction.ts).
 */
async function rerun(
  interaction: MessageComponentInteraction | ModalSubmitInteraction,
  context: CommandContext,
  generationId: string,
  change: () => RerunChange,
): Promise<void> {
  checkAccess(interaction, context.services.config.limits);
  const wanted = change();
  const entry: ReceivedRerun = {
    ...receivedFrom(interaction, newJobId()),
    kind: 'rerun',
    generationId,
    change: {
      kind: wanted.kind,
      prompt: wanted.prompt,
      negative: wanted.negative,
      aspect: wanted.aspect,
      seed: wanted.seed,
      upload: wanted.upload && attachmentData(wanted.upload),
      resultImage: wanted.image === undefined ? undefined : attachmentData(resultImage(interaction, wanted.image)),
    },
  };
  await answerFromJournal(interaction, context, entry, finishRerun);
}

/**
 * Runs a new generation from an old one, from its journal entry (after the acknowledgement, or in a replay): same
 * settings, a fresh seed (unless one is given), and the change asked for; the job is queued under the entry's id.
 */
export async function finishRerun({ services }: FinishContext, entry: ReceivedRerun): Promise<void> {
  const generation = await loadGeneration(services, entry.generationId);
  const wanted = entry.change;
  const { seed: _seed, image: _image, ...previous } = generation.settings;
  // A new ratio replaces the size the old one gave.
  const { width: _width, height: _height, ...unsized } = previous;
  const kept = wanted.aspect === undefined ? previous : unsized;
  const context = planContextOf(services, entry.ageRestricted);
  // An uploaded image on a text-to-image generation means "start from this picture".
  const kind =
    wanted.kind ?? (wanted.upload && !isImageToImage(generation.workflow, services) ? 'image-to-image' : undefined);
  const workflow = kind ? firstOfKind(kind, context) : generation.workflow;
  const target = services.workflows.get(workflow);
  const carried = target && kind ? keepAccepted(kept, target) : kept;
  const settings: GenerationSettings = {
    ...(kind === 'upscale' ? { prompt: '' } : carried),
    ...(wanted.prompt === undefined ? {} : { prompt: wanted.prompt }),
    ...(wanted.negative === undefined ? {} : { negative: wanted.negative || undefined }),
    ...(wanted.aspect === undefined ? {} : { aspect: wanted.aspect }),
    ...(wanted.seed === undefined ? {} : { seed: wanted.seed }),
    workflow,
  };
  const picture = wanted.upload ?? wanted.resultImage;
  const source = picture ? await keptInput(picture, services) : await previousInput(services, entry.generationId);
  const plan = planSettings(settings, {}, source !== undefined, context);
  if (!plan.ok) throw new UserFacingError(plan.identifier, plan.sentences);
  await services.jobs.enqueue({
    id: entry.id,
    memberId: entry.memberId,
    guildId: entry.guildId,
    channelId: entry.channelId || generation.channelId || '',
    sessionId: generation.sessionId,
    settings: plan.settings,
    inputImage: source,
    delivery: entry.delivery,
  });
}

async function loadGeneration(services: BotServices, generationId: string): Promise<Generation> {
  const generation = await services.sessions.getGeneration(generationId);
  if (!generation) throw new UserFacingError('generation-gone', GONE);
  return generation;
}

/** The input image of the job behind a generation, so a reroll of an image-to-image result keeps its source. */
async function previousInput(services: BotServices, generationId: string) {
  const job = await services.jobs.findJob(generationId);
  return job?.inputImage;
}

/** One of the result message's attachments (read from the interaction, no I/O), to keep as the next job's input. */
function resultImage(interaction: MessageComponentInteraction | ModalSubmitInteraction, index: number): Attachment {
  const attachment = interaction.message ? [...interaction.message.attachments.values()][index] : undefined;
  if (!attachment) throw new UserFacingError('result-image-gone', 'That image is no longer attached to the message.');
  return attachment;
}

function isImageToImage(workflow: string, services: BotServices): boolean {
  return services.workflows.get(workflow)?.kind === 'image-to-image';
}

/** An image kept (checked, within the limits) as the input of the next job. */
async function keptInput(attachment: AttachmentInfo, services: BotServices) {
  const image = await storeInputImage(
    attachment,
    services.inputs,
    services.config.limits.attachmentBytes,
    services.config.limits.imagePixels,
  );
  return { path: image.path, filename: image.filename };
}

function firstOfKind(kind: 'image-to-image' | 'upscale', context: PlanContext): string {
  const workflow = firstWorkflowOfKind(kind, context);
  if (!workflow) {
    const what = kind === 'upscale' ? 'upscale' : 'image-to-image';
    throw new UserFacingError(
      'no-workflow-of-kind',
      `No ${what} workflow is loaded here; ask the server admins to add one.`,
      { params: { kind: what } },
    );
  }
  return workflow.name;
}

/** "Refine in thread": opens a thread on the result (session-opener.ts) and points the member to it, privately. */
async function openThread(
  interaction: ButtonInteraction,
  { services, logger }: CommandContext,
  generationId: string,
): Promise<void> {
  checkAccess(interaction, services.config.limits);
  if (!canStartThreads(interaction)) {
    throw new UserFacingError('threads-impossible', 'I cannot open threads here; reply to the picture to refine it.');
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const generation = await loadGeneration(services, generationId);
  const deps = {
    rest: interaction.client.rest,
    sessions: services.sessions,
    logger,
    ignorePrefix: services.config.refineIgnorePrefix,
    locale: interaction.locale,
  };
  const { message } = interaction;
  const result = { messageId: message.id, channelId: message.channelId, hasThread: message.hasThread };
  const threadId = await openSessionThread(deps, generation, result);
  await interaction.editReply({ content: text(interaction.locale, 'thread.opened', { thread: `<#${threadId}>` }) });
}

async function deleteResult(
  interaction: ButtonInteraction,
  generationId: string,
  services: BotServices,
): Promise<void> {
  const generation = await services.sessions.getGeneration(generationId);
  const owner = generation?.ownerId;
  const moderator = interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
  if (owner !== undefined && owner !== interaction.user.id && !moderator) {
    throw new UserFacingError('not-owner', 'Only the member who made this picture, or a moderator, can delete it.');
  }
  if (owner === undefined && !moderator) throw new UserFacingError('generation-gone', GONE);
  await interaction.deferUpdate();
  // Where the bot is not (a user install), only the interaction's webhook may delete the message the button is on.
  const remove = botIsPresent(interaction) ? () => interaction.message.delete() : () => interaction.deleteReply();
  // Pressed twice in quick succession (or by two moderators), the second press finds the message gone.
  const alreadyGone = await remove().then(
    () => false,
    (error: unknown) => {
      if (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownMessage) return true;
      throw error;
    },
  );
  await services.sessions.deleteGeneration(generationId);
  const sentence = text(interaction.locale, alreadyGone ? 'delete.already' : 'delete.done');
  await interaction.followUp({ content: sentence, flags: MessageFlags.Ephemeral });
}
