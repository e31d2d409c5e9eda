/**
 * The registry: every slash command, once. The interaction router and `deploy-commands` both read this list, so what
 * is registered with Discord and what the bot answers can never drift apart.
 */
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { SlashCommand } from './command.js';
import { localizeCommand } from './localize.js';
import { history } from './history.js';
import { imagine } from './imagine.js';
import { queue } from './queue.js';
import { settings } from './settings.js';
import { workflows } from './workflows.js';

export const COMMANDS: readonly SlashCommand[] = [imagine, settings, history, queue, workflows];

/** The registration JSON of every command, with its localisations (src/i18n), as `deploy-commands` sends it. */
export const COMMAND_DEFINITIONS: readonly RESTPostAPIChatInputApplicationCommandsJSONBody[] = COMMANDS.map((command) =>
  localizeCommand(command.definition),
);
