/**
 * The error every layer throws when a member did something we can explain: it carries a stable identifier (for logs,
 * metrics and tests) and one sentence a member may read. The router shows `userMessage`; anything else becomes a
 * generic sentence and the detail goes to the log.
 */
export class UserFacingError extends Error {
  override readonly name: string = 'UserFacingError';

  constructor(
    /** A stable identifier such as `prompt-too-long`; never shown to members. */
    readonly identifier: string,
    /** One sentence for the member: what happened and what to do. No server addresses, no stack traces. */
    readonly userMessage: string,
    options?: { cause?: unknown; detail?: string; params?: Readonly<Record<string, string | number>> },
  ) {
    super(options?.detail ?? userMessage, options?.cause === undefined ? undefined : { cause: options.cause });
    this.params = options?.params ?? {};
  }

  /** The values in the sentence, for translations of it (src/i18n, key `error.<identifier>`). */
  readonly params: Readonly<Record<string, string | number>>;
}

/** True for errors that carry a sentence meant for members. */
export function isUserFacing(error: unknown): error is UserFacingError {
  return error instanceof UserFacingError;
}
