/**
 * `/imagine prompt:<text>`: checks what can be checked without I/O (flags, workflow, limits, permissions), refusing
 * bad input with one private sentence; then writes the request down, defers, reads the member's defaults, keeps an
 * attached image and queues the job (received-interaction.ts). From there the job presenter turns the deferred reply
 * into the status card.
 */
import type { AutocompleteInteraction, ChatInputCommandInteraction } from 'discord.js';
import { UserFacingError } from '../errors.js';
import { checkAccess } from '../discord/access.js';
import { planContext, planContextOf } from '../discord/plan-context.js';
import { planGeneration, screenRequest } from '../workflows/generation-plan.js';
import { checkAttachment, storeInputImage, type AttachmentInfo } from '../discord/input-images.js';
import { answerFromJournal, attachmentData, receivedFrom } from '../discord/received-interaction.js';
import type { ReceivedImagine } from '../discord/request-journal.js';
import type { FinishContext } from '../discord/services.js';
import { newJobId } from '../jobs/model.js';
import { parseLoraValue } from '../workflows/flags.js';
import type { SettingsChange } from '../workflows/settings.js';
import type { CommandContext, SlashCommand } from './command.js';
import { imagineDefinition } from './definitions.js';
import { MODEL_OPTIONS, suggestModels, workflowBeingTyped } from './model-autocomplete.js';
import { suggestWorkflows, workflowsOfferedIn } from './workflow-autocomplete.js';

export const imagine: SlashCommand = {
  definition: imagineDefinition,

  async execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
    const { services } = context;
    checkAccess(interaction, services.config.limits);
    const attachment = readAttachment(interaction);
    if (attachment) checkAttachment(attachment, services.config.limits.attachmentBytes);
    const input = {
      text: interaction.options.getString('prompt', true),
      options: readOptions(interaction),
      hasImage: attachment !== undefined,
    };
    // Refusals that no /settings default could change are given before deferring, privately and at once.
    const refusal = screenRequest(input, planContext(services, interaction.channel));
    if (refusal) throw new UserFacingError(refusal.identifier, refusal.sentences);

    const entry: ReceivedImagine = {
      ...receivedFrom(interaction, newJobId()),
      kind: 'imagine',
      text: input.text,
      options: input.options,
      ...(attachment ? { attachment: attachmentData(attachment) } : {}),
    };
    await answerFromJournal(interaction, context, entry, finishImagine);
  },

  async autocomplete(interaction: AutocompleteInteraction, { services }: CommandContext): Promise<void> {
    const focused = interaction.options.getFocused(true);
    const kind = MODEL_OPTIONS[focused.name];
    if (kind) {
      const workflow = await workflowBeingTyped(interaction, services);
      return interaction.respond(suggestModels(services.models, workflow, kind, focused.value));
    }
    const offered = workflowsOfferedIn(services.workflows.list(), interaction.channel);
    await interaction.respond(suggestWorkflows(offered, focused.value));
  },
};

/**
 * The rest of an `/imagine` from its journal entry (after the acknowledgement, or in a replay): the member's defaults,
 * the plan, the attached image kept, and the job queued under the entry's id.
 */
export async function finishImagine({ services }: FinishContext, entry: ReceivedImagine): Promise<void> {
  const defaults = await services.sessions.getMemberDefaults(entry.memberId);
  const input = { text: entry.text, options: entry.options, hasImage: entry.attachment !== undefined, defaults };
  const plan = planGeneration(input, planContextOf(services, entry.ageRestricted));
  if (!plan.ok) throw new UserFacingError(plan.identifier, plan.sentences);
  const image = entry.attachment
    ? await storeInputImage(
        entry.attachment,
        services.inputs,
        services.config.limits.attachmentBytes,
        services.config.limits.imagePixels,
      )
    : undefined;
  // Used inside a thread, it continues the thread's session.
  const session = entry.inThread ? await services.sessions.getSessionByThread(entry.channelId) : undefined;
  await services.jobs.enqueue({
    id: entry.id,
    memberId: entry.memberId,
    guildId: entry.guildId,
    channelId: entry.channelId,
    sessionId: session?.id,
    settings: plan.settings,
    inputImage: image && { path: image.path, filename: image.filename },
    delivery: { ...entry.delivery, defaultsApplied: [...plan.defaultsApplied] },
  });
}

function readOptions(interaction: ChatInputCommandInteraction): SettingsChange {
  return {
    negative: interaction.options.getString('negative') ?? undefined,
    workflow: interaction.options.getString('workflow') ?? undefined,
    aspect: interaction.options.getString('aspect') ?? undefined,
    seed: interaction.options.getInteger('seed') ?? undefined,
    count: interaction.options.getInteger('count') ?? undefined,
    checkpoint: interaction.options.getString('model')?.trim() || undefined,
    loras: readLora(interaction.options.getString('lora')),
  };
}

function readLora(value: string | null): SettingsChange['loras'] {
  if (value === null || value.trim() === '') return undefined;
  const parsed = parseLoraValue(value);
  if (!parsed.ok) throw new UserFacingError('bad-lora', parsed.sentence);
  return [parsed.lora];
}

function readAttachment(interaction: ChatInputCommandInteraction): AttachmentInfo | undefined {
  return interaction.options.getAttachment('image') ?? undefined;
}
