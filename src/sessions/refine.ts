/**
 * The refine grammar: what a reply in a session asks for. Pure, and shares `parseFlags` with `/imagine`, so a
 * flag means the same thing in a thread as in the command.
 *
 * - plain text replaces the prompt and keeps every other setting;
 * - text starting with `+` appends to the previous prompt;
 * - flags alone (`--seed 7`, `--ar 2:3`) change only those settings;
 * - an attached image starts image-to-image from it (text with it replaces the prompt, flags apply);
 * - `again` rerolls with a new seed (flags with it apply too);
 * - `--lora name:weight` adds a LoRA to the picture's, or changes the weight of one it has; `--lora name:0` takes it out;
 * - an empty message, or one starting with the ignore prefix (`//` by default), is conversation, not a request.
 */
import { english, LOCALES, sentence, text, translation, type Sentence } from '../i18n/catalog.js';
import { parseFlags } from '../workflows/flags.js';
import { mergeLoras } from '../workflows/lora-choices.js';
import type { GenerationSettings, LoraChoice, SettingsChange } from '../workflows/settings.js';

/** The default prefix that marks a reply as conversation the bot should leave alone. */
export const DEFAULT_IGNORE_PREFIX = '//';

/** What a reply asked for. `error` names the token to fix and carries a sentence for the member. */
export type Refine =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'reroll'; readonly settings: SettingsChange }
  | { readonly kind: 'replace'; readonly prompt: string; readonly settings: SettingsChange }
  | { readonly kind: 'append'; readonly text: string; readonly settings: SettingsChange }
  | { readonly kind: 'settings'; readonly settings: SettingsChange }
  | { readonly kind: 'image'; readonly prompt?: string; readonly append?: string; readonly settings: SettingsChange }
  | { readonly kind: 'error'; readonly token: string; readonly message: string; readonly sentence: Sentence };

/** A refine that leads to a generation. */
export type ActionableRefine = Exclude<Refine, { kind: 'ignore' } | { kind: 'error' }>;

/** What the parser needs to know beyond the text. */
export interface RefineContext {
  /** The reply carries an image attachment. */
  readonly hasImage: boolean;
  /** Replies starting with this are ignored; an empty prefix ignores nothing. */
  readonly ignorePrefix: string;
}

/** Two short lines for the first message of a session thread, naming the ignore prefix in use, in `locale`. */
export function refineHelp(ignorePrefix: string = DEFAULT_IGNORE_PREFIX, locale?: string | null): string {
  const again = againWord(locale);
  return ignorePrefix === ''
    ? text(locale, 'refine.helpNoChat', { again })
    : text(locale, 'refine.help', { again, prefix: ignorePrefix });
}

/** The thread's first message with the default ignore prefix, in English. */
export const REFINE_HELP = refineHelp();

/** The word that asks for the same picture with a new seed, in `locale`: `again`, `nochmal`, `encore`… */
export function againWord(locale?: string | null): string {
  return translation(locale, 'refine.again') ?? 'again';
}

// "again" in every language the bot speaks: a reply carries no language, so each is understood everywhere.
const AGAIN_WORDS = new Set(['again', ...LOCALES.map((locale) => againWord(locale).toLowerCase())]);

function isAgain(prompt: string): boolean {
  return AGAIN_WORDS.has(
    prompt
      .replace(/[.!！。]+$/u, '')
      .trim()
      .toLowerCase(),
  );
}

/** Reads a reply in a session (to a result, or in a session thread). */
export function parseRefine(text: string, context: RefineContext): Refine {
  const trimmed = text.trim();
  if (context.ignorePrefix !== '' && trimmed.startsWith(context.ignorePrefix)) return { kind: 'ignore' };
  if (trimmed === '' && !context.hasImage) return { kind: 'ignore' };
  const appending = trimmed.startsWith('+');
  const parsed = parseFlags(appending ? trimmed.slice(1) : trimmed);
  if (!parsed.ok) return { kind: 'error', token: parsed.token, message: parsed.message, sentence: parsed.sentence };
  const { prompt, settings } = parsed;
  if (context.hasImage) return imageRefine(prompt, appending, settings);
  if (appending) {
    if (prompt !== '') return { kind: 'append', text: prompt, settings };
    if (Object.keys(settings).length > 0) return { kind: 'settings', settings };
    const said = sentence('refine.emptyAppend');
    return { kind: 'error', token: '+', message: english(said), sentence: said };
  }
  if (isAgain(prompt)) return { kind: 'reroll', settings };
  if (prompt === '') return { kind: 'settings', settings };
  return { kind: 'replace', prompt, settings };
}

function imageRefine(prompt: string, appending: boolean, settings: SettingsChange): Refine {
  // "again" beside an image means "the same prompt on this image", not a prompt reading "again".
  if (prompt === '' || (!appending && isAgain(prompt))) return { kind: 'image', settings };
  return appending ? { kind: 'image', append: prompt, settings } : { kind: 'image', prompt, settings };
}

/**
 * The settings of the next generation: every setting carries over, the seed included, so a refine changes only what
 * the reply names and the pictures stay comparable (the graph differs, so ComfyUI's cache does not return the old
 * picture). `again` is the one that asks for a fresh seed, unless it names one. A new aspect ratio drops the old width
 * and height, which were derived from the old ratio. LoRAs add to the picture's: `pictureLoras` are the ones its
 * workflow ran by itself when the member had chosen none. The caller puts the uploaded image into `image` for an
 * `image` refine.
 */
export function applyRefine(
  previous: GenerationSettings,
  refine: ActionableRefine,
  pictureLoras: readonly LoraChoice[] = [],
): GenerationSettings {
  const { seed: _oldSeed, ...withoutSeed } = previous;
  const kept = refine.kind === 'reroll' ? withoutSeed : previous;
  const base: GenerationSettings =
    refine.settings.aspect === undefined ? kept : { ...kept, width: undefined, height: undefined };
  const added = refine.settings.loras;
  const loras = added === undefined ? base.loras : mergeLoras(previous.loras ?? pictureLoras, added);
  const next: GenerationSettings = {
    ...base,
    ...refine.settings,
    loras,
    prompt: nextPrompt(previous.prompt, refine),
  };
  return withoutUndefined(next);
}

function nextPrompt(previous: string, refine: ActionableRefine): string {
  switch (refine.kind) {
    case 'replace':
      return refine.prompt;
    case 'append':
      return joinPrompt(previous, refine.text);
    case 'image':
      if (refine.prompt !== undefined) return refine.prompt;
      return refine.append === undefined ? previous : joinPrompt(previous, refine.append);
    case 'reroll':
    case 'settings':
      return previous;
  }
}

function joinPrompt(previous: string, addition: string): string {
  return previous === '' ? addition : `${previous} ${addition}`;
}

function withoutUndefined(settings: GenerationSettings): GenerationSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as GenerationSettings;
}
