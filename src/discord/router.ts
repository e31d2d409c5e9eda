/**
 * The interaction router: slash commands, autocomplete, buttons and modals each go to their handler, and this is the
 * one place that catches. A `UserFacingError` shows its sentence; anything else shows a generic sentence. Either way
 * the detail goes to the log, with the command, member and interaction id bound.
 */
import {
  MessageFlags,
  type ButtonInteraction,
  type Interaction,
  type ModalSubmitInteraction,
  type RepliableInteraction,
} from 'discord.js';
import { isUserFacing, sentenceFor } from '../errors.js';
import { text } from '../i18n/catalog.js';
import { isStoreAway } from '../store/store-away.js';
import type { Logger } from '../logger.js';
import type { CommandContext, SlashCommand } from '../commands/command.js';
import type { AcknowledgementQueue } from './acknowledgements.js';
import type { BotServices } from './services.js';

export const GENERIC_FAILURE = 'Something went wrong on our side; it has been logged. Please try again.';

/** Handles the components (buttons) and modals; slash commands come from the registry. */
export interface ComponentHandlers {
  button(interaction: ButtonInteraction, context: CommandContext): Promise<void>;
  modal(interaction: ModalSubmitInteraction, context: CommandContext): Promise<void>;
}

export interface RouterOptions {
  readonly commands: readonly SlashCommand[];
  readonly components: ComponentHandlers;
  readonly services: BotServices;
  readonly logger: Logger;
  readonly acknowledgements: AcknowledgementQueue;
}

/** Returns the `interactionCreate` listener. */
export function createInteractionRouter(options: RouterOptions): (interaction: Interaction) => Promise<void> {
  const byName = new Map(options.commands.map((command) => [command.definition.name, command]));
  const { acknowledgements } = options;
  return async (interaction) => {
    acknowledgements.arrived(interaction.id);
    // The child logger is made on first use: most interactions log nothing, and making one (pino serialises and
    // redacts its bindings) was a tenth of the bot's work to acknowledge an /imagine (bench/ack.ts --profile).
    let logger: Logger | undefined;
    const answered: (() => Promise<void>)[] = [];
    const context: CommandContext = {
      services: options.services,
      get logger() {
        logger ??= options.logger.child({
          interaction: interaction.id,
          member: interaction.user.id,
          command: describe(interaction),
        });
        return logger;
      },
      afterAcknowledgements: () => {
        acknowledgements.acknowledged(interaction.id);
        return acknowledgements.settled();
      },
      whenAnswered: (work) => void answered.push(work),
    };
    try {
      if (interaction.isChatInputCommand()) {
        const command = byName.get(interaction.commandName);
        if (!command) throw new Error(`no handler for /${interaction.commandName}`);
        await command.execute(interaction, context);
      } else if (interaction.isAutocomplete()) {
        await byName.get(interaction.commandName)?.autocomplete?.(interaction, context);
      } else if (interaction.isButton()) {
        await options.components.button(interaction, context);
      } else if (interaction.isModalSubmit()) {
        await options.components.modal(interaction, context);
      }
    } catch (error) {
      if (isUserFacing(error)) context.logger.info({ err: error, reason: error.identifier }, 'interaction refused');
      else context.logger.error({ err: error }, 'interaction failed');
      if (interaction.isRepliable()) {
        // The store out of reach (Redis restarting) is no bug of ours: the member is told to try again shortly.
        const sentence = isUserFacing(error)
          ? sentenceFor(error, interaction.locale)
          : text(interaction.locale, isStoreAway(error) ? 'error.store-away' : 'error.generic');
        await tellMember(interaction, sentence, context.logger);
      }
    } finally {
      // Answered or not, it no longer holds anyone up.
      acknowledgements.acknowledged(interaction.id);
      for (const work of answered) {
        await work().catch((error: unknown) => context.logger.warn({ err: error }, 'could not finish answering'));
      }
    }
  };
}

/** Shows one sentence to the member only, whatever state the interaction is in. */
export async function tellMember(interaction: RepliableInteraction, sentence: string, logger: Logger): Promise<void> {
  try {
    if (interaction.deferred && interaction.ephemeral === null) {
      // Acknowledged by deferUpdate(): the "reply" is the message the button sits on (maybe another member's card),
      // which must be neither edited nor deleted.
      await interaction.followUp({ content: sentence, flags: MessageFlags.Ephemeral });
    } else if (interaction.deferred && !interaction.ephemeral) {
      // A public "thinking…" placeholder would stay forever: replace it by a private sentence.
      await interaction.followUp({ content: sentence, flags: MessageFlags.Ephemeral });
      await interaction.deleteReply().catch(() => undefined);
    } else if (interaction.deferred || interaction.replied) {
      await interaction.editReply({ content: sentence, embeds: [], components: [], files: [] });
    } else {
      await interaction.reply({ content: sentence, flags: MessageFlags.Ephemeral });
    }
  } catch (error) {
    // The token may have expired or the channel vanished; the log already has the cause.
    logger.warn({ err: error }, 'could not show the member an error');
  }
}

function describe(interaction: Interaction): string {
  if (interaction.isChatInputCommand() || interaction.isAutocomplete()) return `/${interaction.commandName}`;
  if (interaction.isButton() || interaction.isModalSubmit()) return interaction.customId;
  return `interaction type ${interaction.type}`;
}
