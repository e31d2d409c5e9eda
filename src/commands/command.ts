/**
 * The shape of a slash command: its registration JSON and its handlers. Handlers are thin: they read options, call one
 * domain function from the services they are given, and render the result. Errors propagate to the router's one catch.
 */
import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Logger } from '../logger.js';
import type { BotServices } from '../discord/services.js';

/** What every handler gets besides its interaction. */
export interface CommandContext {
  readonly services: BotServices;
  /** A child logger bound to the command, member and interaction id. */
  readonly logger: Logger;
  /**
   * Resolves once every interaction that arrived before this one's acknowledgement is acknowledged too. A handler
   * awaits it right after acknowledging, before work that can wait (see discord/acknowledgements.ts).
   */
  afterAcknowledgements(): Promise<void>;
  /**
   * Runs `work` once the interaction is answered: its handler ended, and when it threw, the member was told why (the
   * router's one catch). A received request leaves the journal this way (discord/request-journal.ts).
   */
  whenAnswered(work: () => Promise<void>): void;
}

export interface SlashCommand {
  readonly definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, context: CommandContext): Promise<void>;
}
