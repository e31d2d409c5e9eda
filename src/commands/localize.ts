/**
 * The registry's commands with Discord's localisation maps added from the locale files: `name_localizations` and
 * `description_localizations` on each command and option, `name_localizations` on each choice. Discord shows a member
 * the names and descriptions of their own language; the interaction still carries the English names, so the handlers
 * need not know.
 */
import type {
  APIApplicationCommandBasicOption,
  APIApplicationCommandOption,
  APIApplicationCommandOptionChoice,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { localizations } from '../i18n/catalog.js';

/** The catalog key prefix of a command or option: `command.imagine`, `command.imagine.option.seed`. */
export function commandKey(command: string, option?: string): string {
  return option === undefined ? `command.${command}` : `command.${command}.option.${option}`;
}

/** The catalog key of a choice's name; choices are shared by name (the aspect ratios of /imagine and /settings). */
export function choiceKey(option: string, value: string | number): string {
  return `choice.${option}.${value}`;
}

/** A command definition with every localisation the locale files have. */
export function localizeCommand(
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody,
): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const key = commandKey(definition.name);
  return {
    ...definition,
    ...localized(key),
    ...(definition.options
      ? { options: definition.options.map((option) => localizeOption(definition.name, option)) }
      : {}),
  };
}

function localizeOption(command: string, option: APIApplicationCommandOption): APIApplicationCommandOption {
  const withText = { ...option, ...localized(commandKey(command, option.name)) };
  if (!('choices' in option) || !option.choices) return withText;
  const choices = (option.choices as APIApplicationCommandOptionChoice[]).map((choice) => {
    const names = localizations(choiceKey(option.name, choice.value));
    return names ? { ...choice, name_localizations: names } : choice;
  });
  return { ...withText, choices } as APIApplicationCommandBasicOption;
}

function localized(key: string) {
  const names = localizations(`${key}.name`);
  const descriptions = localizations(`${key}.description`);
  return {
    ...(names ? { name_localizations: names } : {}),
    ...(descriptions ? { description_localizations: descriptions } : {}),
  };
}
