/**
 * What members read, in the languages Discord offers: one data file per locale in `locales/` (Discord's locale codes),
 * English the source every other file translates. A file may leave a key out; that text then stays English. A test
 * holds every file to the English keys and placeholders (test/i18n).
 */
import de from './locales/de.json' with { type: 'json' };
import en from './locales/en.json' with { type: 'json' };
import esES from './locales/es-ES.json' with { type: 'json' };
import fr from './locales/fr.json' with { type: 'json' };
import ja from './locales/ja.json' with { type: 'json' };
import ko from './locales/ko.json' with { type: 'json' };
import ptBR from './locales/pt-BR.json' with { type: 'json' };
import zhCN from './locales/zh-CN.json' with { type: 'json' };

/** A key of the English catalog. */
export type TextKey = keyof typeof en;

/** Values put into a text's `{name}` placeholders. */
export type TextParams = Readonly<Record<string, string | number>>;

/** The English texts, by key. */
export const ENGLISH: Readonly<Record<TextKey, string>> = en;

/** The translations, by Discord locale code; each may carry only part of the keys. */
export const TRANSLATIONS: Readonly<Record<string, Readonly<Partial<Record<string, string>>>>> = {
  de,
  fr,
  'es-ES': esES,
  'pt-BR': ptBR,
  ja,
  ko,
  'zh-CN': zhCN,
};

/** The locales translated, in Discord's codes. */
export const LOCALES: readonly string[] = Object.keys(TRANSLATIONS);

/** Discord sends regional variants (`en-GB`, `es-419`, `zh-TW`…): the nearest catalog for one, if any. */
function catalogFor(locale: string | null | undefined): Readonly<Partial<Record<string, string>>> | undefined {
  if (!locale) return undefined;
  return TRANSLATIONS[locale] ?? (locale === 'es-419' ? TRANSLATIONS['es-ES'] : undefined);
}

/** The text of `key` in `locale` (English where the locale has no translation), with its placeholders filled. */
export function text(locale: string | null | undefined, key: TextKey, params: TextParams = {}): string {
  return fill(catalogFor(locale)?.[key] ?? ENGLISH[key], params);
}

/** Like `text`, for a key that may not exist (e.g. built from an error's identifier); undefined when it does not. */
export function textIfAny(locale: string | null | undefined, key: string, params: TextParams = {}): string | undefined {
  const template = catalogFor(locale)?.[key] ?? (ENGLISH as Record<string, string | undefined>)[key];
  return template === undefined ? undefined : fill(template, params);
}

/**
 * The translation of `key` into `locale`, or undefined when that locale has none (English included: English sentences
 * are written where they are raised, and the catalog's English only shows translators the placeholders).
 */
export function translation(
  locale: string | null | undefined,
  key: string,
  params: TextParams = {},
): string | undefined {
  const template = catalogFor(locale)?.[key];
  return template === undefined ? undefined : fill(template, params);
}

/** The translations of a key in every locale that has one (Discord's `*_localizations` maps). */
export function localizations(key: string): Record<string, string> | undefined {
  const entries = LOCALES.flatMap((locale) => {
    const value = TRANSLATIONS[locale]?.[key];
    return value === undefined ? [] : [[locale, value] as const];
  });
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** The `{name}` placeholders of a text, sorted (to compare translations with the English). */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();
}

/**
 * A sentence for a member, as its catalogue key and the values of its placeholders: a layer that refuses something
 * names the sentence, and whoever shows it says it in the member's language.
 */
export interface Sentence {
  readonly key: TextKey;
  /** A value may be a phrase of the catalogue itself ("a seed"), said in the same language. */
  readonly params?: Readonly<Record<string, string | number | Sentence>>;
}

/** A sentence (or phrase) of the catalogue. */
export function sentence(key: TextKey, params: Sentence['params'] = {}): Sentence {
  return { key, params };
}

/**
 * A sentence read back from storage (a failed job's record) as one of this catalogue's, or undefined when it names a
 * key this release does not have (written by another release): the caller then says the English text it kept.
 */
export function knownSentence(stored: {
  readonly key: string;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
}): Sentence | undefined {
  if (!Object.hasOwn(ENGLISH, stored.key)) return undefined;
  const params: Record<string, string | number | Sentence> = {};
  for (const [name, value] of Object.entries(stored.params ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') params[name] = value;
    else if (typeof value === 'object' && value !== null && 'key' in value && typeof value.key === 'string') {
      const phrase = knownSentence(value as { key: string; params?: Readonly<Record<string, unknown>> });
      if (phrase === undefined) return undefined;
      params[name] = phrase;
    } else return undefined;
  }
  return { key: stored.key as TextKey, params };
}

/** Sentences in `locale` (English where it has no translation), as one answer. */
export function say(locale: string | null | undefined, sentences: Sentence | readonly Sentence[]): string {
  const list: readonly Sentence[] = 'key' in sentences ? [sentences] : sentences;
  return list.map((each) => text(locale, each.key, filled(locale, each.params))).join(' ');
}

function filled(locale: string | null | undefined, params: Sentence['params'] = {}): TextParams {
  return Object.fromEntries(
    Object.entries(params).map(([name, value]) => [name, typeof value === 'object' ? say(locale, value) : value]),
  );
}

/** Sentences in English: what logs, the web API and the command line show. */
export function english(sentences: Sentence | readonly Sentence[]): string {
  return say(undefined, sentences);
}

// The English sentences without placeholders, by text: a failure stored as its English sentence (a job's record) is
// found again and said in the member's language.
const KEY_OF_ENGLISH = new Map(
  Object.entries(ENGLISH)
    .filter(([, template]) => isWholeSentence(template))
    .map(([key, template]) => [template, key as TextKey]),
);

/** A text without placeholders that ends as a sentence does: one a refusal may be raised with word for word. */
export function isWholeSentence(template: string): boolean {
  return placeholdersOf(template).length === 0 && /[.!?]$/.test(template);
}

/** The translation into `locale` of a whole English text that is one of the catalogue's fixed sentences, if any. */
export function translateEnglish(locale: string | null | undefined, english: string): string | undefined {
  const key = KEY_OF_ENGLISH.get(english);
  return key === undefined ? undefined : translation(locale, key);
}

function fill(template: string, params: TextParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}
