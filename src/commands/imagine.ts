/**
 * `/imagine prompt:<text>`: checks what can be checked without I/O (flags, workflow, limits, permissions), refusing
 * bad input with one private sentence; then defers at once, reads the member's defaults, keeps an attached image and
 * queues the job. From there the job presenter turns the deferred reply into the status card.
 */
import type { AutocompleteInteraction, ChatInputCommandInteraction } from 'discord.js';
import { UserFacingError } from '../errors.js';
import { checkAccess } from '../discord/access.js';
import { planContext } from '../discord/plan-context.js';
import { planGeneration, screenRequest } from '../workflows/generation-plan.js';
import { deliveryFor, sessionIdFor } from '../discord/delivery-info.js';
import { checkAttachment, storeInputImage, type AttachmentInfo } from '../discord/input-images.js';
import { parseLoraValue } from '../workflows/flags.js';
import type { SettingsChange } from '../workflows/settings.js';
import type { CommandContext, SlashCommand } from './command.js';
import { imagineDefinition } from './definitions.js';
import { MODEL_OPTIONS, suggestModels, workflowBeingTyped } from './model-autocomplete.js';
import { suggestWorkflows, workflowsOfferedIn } from './workflow-autocomplete.js';

export const imagine: SlashCommand = {
  definition: imagineDefinition,

  async execute(
    interaction: ChatInputCommandInteraction,
    { services, afterAcknowledgements }: CommandContext,
  ): Promise<void> {
    checkAccess(interaction, services.config.limits);
    const attachment = readAttachment(interaction);
    if (attachment) checkAttachment(attachment, services.config.limits.attachmentBytes);
    const input = {
      text: interaction.options.getString('prompt', true),
      options: readOptions(interaction),
      hasImage: attachment !== undefined,
    };
    const context = planContext(services, interaction.channel);
    // Refusals that no /settings default could change are given before deferring, privately and at once.
    const refusal = screenRequest(input, context);
    if (refusal) throw new UserFacingError(refusal.identifier, refusal.sentences);

    await interaction.deferReply();
    await afterAcknowledgements();
    const defaults = await services.sessions.getMemberDefaults(interaction.user.id);
    const plan = planGeneration({ ...input, defaults }, context);
    if (!plan.ok) throw new UserFacingError(plan.identifier, plan.sentences);
    const image = attachment
      ? await storeInputImage(
          attachment,
          services.inputs,
          services.config.limits.attachmentBytes,
          services.config.limits.imagePixels,
        )
      : undefined;
    await services.jobs.enqueue({
      memberId: interaction.user.id,
      guildId: interaction.guildId ?? undefined,
      channelId: interaction.channelId,
      sessionId: await sessionIdFor(interaction, services.sessions),
      settings: plan.settings,
      inputImage: image && { path: image.path, filename: image.filename },
      delivery: deliveryFor(interaction, plan.defaultsApplied),
    });
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
