/**
 * What a job must remember to reach the member again, possibly after a restart: the interaction's webhook token (valid
 * 15 minutes), the channel to fall back on, and what the card should say besides the job's own settings.
 */
import type { ChatInputCommandInteraction, MessageComponentInteraction, ModalSubmitInteraction } from 'discord.js';
import type { DeliveryInfo, JobRecord } from '../jobs/model.js';
import { botIsPresent, canStartThreads } from './access.js';
import type { CardTarget } from './card-updater.js';

/** Discord keeps an interaction token alive for 15 minutes. */
export const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60 * 1000;

/** Discord's attachment limit for a server without boosts, when an interaction does not say. */
export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;

type DeferredInteraction = ChatInputCommandInteraction | MessageComponentInteraction | ModalSubmitInteraction;

/** The delivery record of a job started by an interaction whose reply has been deferred. */
export function deliveryFor(
  interaction: DeferredInteraction,
  defaultsApplied: readonly string[] = [],
  threads = canStartThreads(interaction),
): DeliveryInfo {
  return {
    applicationId: interaction.applicationId,
    interactionToken: interaction.token,
    tokenExpiresAt: interaction.createdTimestamp + INTERACTION_TOKEN_LIFETIME_MS,
    channelId: interaction.channelId ?? '',
    attachmentSizeLimit: interaction.attachmentSizeLimit,
    defaultsApplied: [...defaultsApplied],
    threads,
    ...(botIsPresent(interaction) ? {} : { webhookOnly: true }),
    locale: interaction.locale,
  };
}

/** The card target of a job, or undefined for jobs that were not started from Discord (the CLI's). */
export function cardTargetOf(job: JobRecord): CardTarget | undefined {
  if (!job.delivery) return undefined;
  return {
    applicationId: job.delivery.applicationId,
    interactionToken: job.delivery.interactionToken,
    tokenExpiresAt: job.delivery.tokenExpiresAt,
    channelId: job.delivery.channelId,
    messageId: job.delivery.statusMessageId,
    memberId: job.memberId,
    webhookOnly: job.delivery.webhookOnly === true,
    locale: job.delivery.locale,
  };
}
