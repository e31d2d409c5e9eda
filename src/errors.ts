import { english, translateEnglish, translation, say, type Sentence } from './i18n/catalog.js';

/**
 * The error every layer throws when a member did something we can explain: it carries a stable identifier (for logs,
 * metrics and tests) and one sentence a member may read. The router shows `userMessage`; anything else becomes a
 * generic sentence and the detail goes to the log.
 */
export class UserFacingError extends Error {
  override readonly name: string = 'UserFacingError';

  /** One sentence for the member, in English: what happened and what to do. No server addresses, no stack traces. */
  readonly userMessage: string;

  /** The same as catalogue sentences, to be said in the member's language (`sentenceFor`); absent for plain text. */
  readonly sentences: readonly Sentence[] | undefined;

  constructor(
    /** A stable identifier such as `prompt-too-long`; never shown to members. */
    readonly identifier: string,
    /** The sentence: catalogue sentences, or English text (translated where the catalogue has the same text). */
    said: string | Sentence | readonly Sentence[],
    options?: { cause?: unknown; detail?: string; params?: Readonly<Record<string, string | number>> },
  ) {
    const sentences = typeof said === 'string' ? undefined : 'key' in said ? [said] : said;
    const userMessage = sentences === undefined ? (said as string) : english(sentences);
    super(options?.detail ?? userMessage, options?.cause === undefined ? undefined : { cause: options.cause });
    this.userMessage = userMessage;
    this.sentences = sentences;
    this.params = options?.params ?? {};
  }

  /** The values in the sentence, for translations of it (src/i18n, key `error.<identifier>`). */
  readonly params: Readonly<Record<string, string | number>>;
}

/** True for errors that carry a sentence meant for members. */
export function isUserFacing(error: unknown): error is UserFacingError {
  return error instanceof UserFacingError;
}

/**
 * An error's sentence in the member's language: its catalogue sentences, else the translation of `error.<identifier>`,
 * else that of its English text when the catalogue has it word for word; English where none is translated.
 */
export function sentenceFor(error: UserFacingError, locale: string | null | undefined): string {
  if (error.sentences) return say(locale, error.sentences);
  return (
    translation(locale, `error.${error.identifier}`, error.params) ??
    translateEnglish(locale, error.userMessage) ??
    error.userMessage
  );
}
