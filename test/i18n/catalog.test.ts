import { Locale } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { COMMAND_DEFINITIONS } from '../../src/commands/index.js';
import { choiceKey, commandKey } from '../../src/commands/localize.js';
import { ENGLISH, LOCALES, placeholdersOf, text, TRANSLATIONS } from '../../src/i18n/catalog.js';

/** Discord's rule for command and option names (docs: Application Commands → Application Command Naming). */
const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/** The catalog keys the registry's commands look up: names, descriptions and choices. */
function commandKeys(): string[] {
  return COMMAND_DEFINITIONS.flatMap((command) => [
    `${commandKey(command.name)}.name`,
    `${commandKey(command.name)}.description`,
    ...(command.options ?? []).flatMap((option) => [
      `${commandKey(command.name, option.name)}.name`,
      `${commandKey(command.name, option.name)}.description`,
      ...('choices' in option && option.choices ? option.choices.map((c) => choiceKey(option.name, c.value)) : []),
    ]),
  ]);
}

const KNOWN = new Set([...Object.keys(ENGLISH), ...commandKeys()]);

describe('the locale files', () => {
  it('translate at least the locales Discord members use most, under Discord’s own locale codes', () => {
    expect(LOCALES).toEqual(expect.arrayContaining(['de', 'fr', 'es-ES', 'pt-BR', 'ja', 'ko', 'zh-CN']));
    const discordLocales: readonly string[] = Object.values(Locale);
    for (const locale of LOCALES) expect(discordLocales).toContain(locale);
  });

  it.each(LOCALES)('%s carries only keys the bot uses', (locale) => {
    const unknown = Object.keys(TRANSLATIONS[locale]!).filter((key) => !KNOWN.has(key));
    expect(unknown).toEqual([]);
  });

  it.each(LOCALES)('%s keeps the placeholders of every English text it translates', (locale) => {
    for (const [key, translated] of Object.entries(TRANSLATIONS[locale]!)) {
      const english = (ENGLISH as Record<string, string | undefined>)[key];
      expect(placeholdersOf(translated ?? ''), `${locale} ${key}`).toEqual(placeholdersOf(english ?? ''));
    }
  });

  it.each(LOCALES)('%s names and describes every command, option and choice, within Discord’s rules', (locale) => {
    const catalog = TRANSLATIONS[locale]!;
    const missing = commandKeys().filter((key) => catalog[key] === undefined);
    expect(missing).toEqual([]);
    for (const command of COMMAND_DEFINITIONS) {
      const names = [catalog[`${commandKey(command.name)}.name`]!];
      const optionNames = (command.options ?? []).map(
        (option) => catalog[`${commandKey(command.name, option.name)}.name`]!,
      );
      for (const name of [...names, ...optionNames]) {
        expect(name, `${locale} ${name}`).toMatch(NAME);
        expect(name, `${locale} ${name} is lowercase`).toBe(name.toLocaleLowerCase(locale));
      }
      expect(new Set(optionNames).size, `${locale} /${command.name} option names are unique`).toBe(optionNames.length);
    }
    for (const key of commandKeys()) {
      const value = catalog[key]!;
      expect(value.length, `${locale} ${key}`).toBeGreaterThan(0);
      expect(value.length, `${locale} ${key}`).toBeLessThanOrEqual(key.endsWith('.name') ? 32 : 100);
    }
    const commandNames = COMMAND_DEFINITIONS.map((command) => catalog[`${commandKey(command.name)}.name`]);
    expect(new Set(commandNames).size).toBe(commandNames.length);
  });

  it.each(LOCALES)('%s translates every sentence members read', (locale) => {
    const missing = Object.keys(ENGLISH).filter((key) => TRANSLATIONS[locale]![key] === undefined);
    expect(missing).toEqual([]);
  });
});

describe('text', () => {
  it('fills placeholders in the member’s language, falling back to English for other locales', () => {
    expect(text('de', 'card.queued', { position: 3 })).toBe('In der Warteschlange, Platz 3.');
    expect(text('en-GB', 'card.queued', { position: 3 })).toBe('Queued, position 3.');
    expect(text('nl', 'button.reroll')).toBe('Reroll');
    expect(text(null, 'button.reroll')).toBe('Reroll');
    expect(text('es-419', 'button.delete')).toBe('Borrar');
  });
});
