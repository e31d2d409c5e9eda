/**
 * How an interaction that asks for a picture (an `/imagine`, a Reroll, Vary, Upscale or Edit) is received: once the
 * checks that need no I/O have passed, it is written down (request-journal.ts), then acknowledged, then finished from
 * what was written, by the same function a replay in another process (or after a restart) calls with the same entry.
 * A process killed at any moment in between leaves an entry a live one finishes.
 */
import type { ChatInputCommandInteraction, MessageComponentInteraction, ModalSubmitInteraction } from 'discord.js';
import type { CommandContext } from '../commands/command.js';
import { isAgeRestricted } from './access.js';
import { deliveryFor } from './delivery-info.js';
import type { AttachmentInfo } from './input-images.js';
import type { AttachmentData, ReceivedInteraction } from './request-journal.js';
import type { FinishContext } from './services.js';

type AskingInteraction = ChatInputCommandInteraction | MessageComponentInteraction | ModalSubmitInteraction;

/** What every entry of an interaction holds, read from it without I/O; `id` is its job's id. */
export function receivedFrom(interaction: AskingInteraction, id: string) {
  return {
    id,
    memberId: interaction.user.id,
    guildId: interaction.guildId ?? undefined,
    channelId: interaction.channelId ?? '',
    ageRestricted: isAgeRestricted(interaction.channel),
    receivedAt: Date.now(),
    interactionId: interaction.id,
    delivery: deliveryFor(interaction),
    inThread: interaction.channel?.isThread() ?? false,
  };
}

/** An attachment as plain data, for the journal. */
export function attachmentData(attachment: AttachmentInfo): AttachmentData {
  const { url, name, size, contentType } = attachment;
  return { url, name, size, contentType };
}

/**
 * Writes the request down, acknowledges the interaction, and finishes it from its entry; the entry leaves the journal
 * once the member is answered (a job queued, or the router told them why not).
 */
export async function answerFromJournal<Entry extends ReceivedInteraction>(
  interaction: AskingInteraction,
  context: CommandContext,
  entry: Entry,
  finish: (context: FinishContext, entry: Entry) => Promise<void>,
): Promise<void> {
  const { services } = context;
  // Before the acknowledgement: the member sees nothing until it is sent, and once it is, the request must outlive
  // this process. The write costs about 0.1 ms (SQLite) or 0.2 ms (Redis) of Discord's 3 s; the work that can wait
  // (defaults, plan, image, job) still waits for the acknowledgements before it (acknowledgements.ts).
  await services.requests.write(entry);
  services.fault('command:journaled');
  context.whenAnswered(() => services.requests.remove(entry.id));
  await interaction.deferReply();
  services.fault('command:acknowledged');
  await context.afterAcknowledgements();
  // A replay after the token died can no longer ask Discord whether the member saw "thinking…": this says so. Not
  // written, a replay asks Discord while the token lives: no reason to fail the request.
  await services.requests
    .note(entry.id, { acknowledgedAt: Date.now() })
    .catch((error: unknown) => context.logger.warn({ err: error }, 'could not note that a request was acknowledged'));
  await finish({ services, rest: interaction.client.rest, logger: context.logger }, entry);
}
