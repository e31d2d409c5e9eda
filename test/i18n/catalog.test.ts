import { Locale } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { COMMAND_DEFINITIONS } from '../../src/commands/index.js';
import { choiceKey, commandKey } from '../../src/commands/localize.js';
import { UserFacingError, sentenceFor } from '../../src/errors.js';
import {
  ENGLISH,
  isWholeSentence,
  LOCALES,
  placeholdersOf,
  say,
  sentence,
  text,
  TRANSLATIONS,
} from '../../src/i18n/catalog.js';

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

describe('sentences raised in one layer and said in another', () => {
  it('are said in the member’s language, a phrase inside one too, and in English for the log', () => {
    const said = sentence('bind.doesNotTakeUse', {
      workflow: 'txt2img',
      setting: sentence('setting.denoise'),
      other: 'img2img',
    });
    expect(say('de', said)).toBe('txt2img nimmt keine Angabe für eine Entrauschungsstärke; nimm --wf img2img.');
    expect(say('nl', said)).toBe('txt2img does not take a denoise strength; use --wf img2img.');
    const error = new UserFacingError('bad-setting', [said, sentence('plan.promptTooLong', { length: 9, limit: 5 })]);
    expect(error.userMessage).toBe(
      'txt2img does not take a denoise strength; use --wf img2img. Your prompt is 9 characters long; the limit is 5.',
    );
    expect(sentenceFor(error, 'fr')).toBe(
      'txt2img n’accepte pas de force de débruitage ; utilise --wf img2img. Ton prompt fait 9 caractères ; la limite est de 5.',
    );
  });

  it('are found again from their English text when only that was kept (a failed job’s record)', () => {
    const stored = new UserFacingError(
      'servers-down',
      'The image servers cannot be reached right now; please try again in a few minutes.',
    );
    expect(sentenceFor(stored, 'de')).toBe(
      'Die Bildserver sind gerade nicht erreichbar; bitte versuch es in ein paar Minuten noch einmal.',
    );
    const unknown = new UserFacingError('odd', 'A sentence no catalogue has.');
    expect(sentenceFor(unknown, 'de')).toBe('A sentence no catalogue has.');
  });

  it.each(LOCALES)(
    '%s translates every whole English sentence, and no two keys share one (so a stored one is found again)',
    (locale) => {
      const fixed = Object.entries(ENGLISH).filter(([, template]) => isWholeSentence(template));
      const english = new Set(fixed.map(([, template]) => template));
      expect(english.size, 'two keys have the same English sentence').toBe(fixed.length);
      for (const [key] of fixed) expect(TRANSLATIONS[locale]![key], `${locale} ${key}`).toBeTruthy();
    },
  );
});
