/**
 * Discord's checks of the localisation maps of a command registration: keys must be Discord locales, localised names
 * follow the naming rule of names (1–32 characters of letters, digits, `-`, `_`, `'`; lowercase where the script has
 * case; chat-input commands and their options only), descriptions 1–100 characters, choice names 1–100.
 */
import { Locale } from 'discord.js';
import type { FieldProblem } from './message-body.js';

/** Discord's rule for command and option names (Application Commands → Application Command Naming). */
export const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

const LOCALES: ReadonlySet<string> = new Set(Object.values(Locale));

type Path = (string | number)[];

interface Localizable {
  readonly name_localizations?: unknown;
  readonly description_localizations?: unknown;
  readonly options?: readonly unknown[] | undefined;
  readonly choices?: readonly unknown[] | undefined;
}

/** The problems of a command's (or option's, recursively) localisation maps. */
export function localizationProblems(item: Localizable, path: Path): FieldProblem[] {
  const problems = [
    ...mapProblems(item.name_localizations, [...path, 'name_localizations'], checkName),
    ...mapProblems(item.description_localizations, [...path, 'description_localizations'], checkDescription),
  ];
  for (const [index, choice] of (item.choices ?? []).entries()) {
    const names = (choice as { name_localizations?: unknown }).name_localizations;
    problems.push(...mapProblems(names, [...path, 'choices', index, 'name_localizations'], checkChoiceName));
  }
  for (const [index, option] of (item.options ?? []).entries()) {
    problems.push(...localizationProblems(option as Localizable, [...path, 'options', index]));
  }
  return problems;
}

function mapProblems(map: unknown, path: Path, check: (value: string, locale: string) => string | undefined) {
  if (map === undefined || map === null) return [];
  if (typeof map !== 'object')
    return [problem(path, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType')];
  const problems: FieldProblem[] = [];
  for (const [locale, value] of Object.entries(map)) {
    if (!LOCALES.has(locale)) {
      problems.push(problem([...path, locale], 'ENUM_TYPE_COERCE', `Value "${locale}" is not a valid enum value.`));
    } else if (typeof value !== 'string') {
      problems.push(problem([...path, locale], 'BASE_TYPE_STRING', 'Must be a string.'));
    } else {
      const message = check(value, locale);
      if (message) problems.push(problem([...path, locale], 'APPLICATION_COMMAND_INVALID_NAME', message));
    }
  }
  return problems;
}

function checkName(value: string, locale: string): string | undefined {
  if (!COMMAND_NAME.test(value)) return `Command name is invalid: ${JSON.stringify(value)}`;
  if (value !== value.toLocaleLowerCase(locale)) return `Command name must be lowercase: ${JSON.stringify(value)}`;
  return undefined;
}

function checkDescription(value: string): string | undefined {
  return value.length >= 1 && value.length <= 100 ? undefined : 'Must be between 1 and 100 in length.';
}

function checkChoiceName(value: string): string | undefined {
  return value.length >= 1 && value.length <= 100 ? undefined : 'Must be between 1 and 100 in length.';
}

function problem(path: Path, code: string, message: string): FieldProblem {
  return { path, code, message };
}
