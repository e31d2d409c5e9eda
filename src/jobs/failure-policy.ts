/**
 * What to do when a job's attempt on a server ends without a result. Pure: the runner supplies the facts.
 *
 * Losing the server (down, restarted and forgot the prompt, or its client replaced) is not the member's problem:
 * a job that had not started yet goes back to the head of the queue; a job that had started is moved to another
 * server once, and fails with a sentence if that one is lost as well. Any other failure is final.
 */
import { ComfyClosedError, ComfyLostError, ComfyUnreachableError } from '../comfy/index.js';
import { isUserFacing, UserFacingError } from '../errors.js';
import { knownSentence, type Sentence } from '../i18n/catalog.js';
import type { JobFailure } from './model.js';

/** The sentence every failure without a better one gets (a failed record of an old release with no failure at all). */
const GENERIC_FAILURE = 'Something went wrong while making this image; please try again.';

/** What the runner does next with the job. */
export type FailureAction =
  | { readonly kind: 'cancel' }
  | { readonly kind: 'requeue' }
  | { readonly kind: 'move' }
  | { readonly kind: 'fail'; readonly error: UserFacingError };

/** The facts about the job when its attempt ended. */
export interface AttemptFacts {
  /** The member asked to cancel it. */
  readonly cancelRequested: boolean;
  /** The server had begun executing it. */
  readonly started: boolean;
  /** Times it was already moved after starting. */
  readonly moves: number;
  /** Times it was handed to a server, this attempt included. */
  readonly attempts: number;
}

/** How often a job may be moved or handed out before it fails. */
export interface RetryLimits {
  readonly maxMoves: number;
  readonly maxAttempts: number;
}

/** The defaults: a started job moves once; a job is handed to servers at most four times. */
export const DEFAULT_RETRY_LIMITS: RetryLimits = { maxMoves: 1, maxAttempts: 4 };

/** True for errors meaning the server, not the job, failed. */
export function isServerLoss(error: unknown): boolean {
  return error instanceof ComfyUnreachableError || error instanceof ComfyLostError || error instanceof ComfyClosedError;
}

/** Decides what follows a failed attempt. */
export function decideAfterFailure(error: unknown, facts: AttemptFacts, limits = DEFAULT_RETRY_LIMITS): FailureAction {
  if (facts.cancelRequested) return { kind: 'cancel' };
  if (isServerLoss(error)) {
    if (facts.started && facts.moves < limits.maxMoves) return { kind: 'move' };
    if (!facts.started && facts.attempts < limits.maxAttempts) return { kind: 'requeue' };
    return { kind: 'fail', error: lostTooOften(error, facts.started) };
  }
  if (isUserFacing(error)) return { kind: 'fail', error };
  return {
    kind: 'fail',
    error: new UserFacingError('job-failed', GENERIC_FAILURE, {
      cause: error,
      detail: `unexpected error: ${String(error)}`,
    }),
  };
}

function lostTooOften(cause: unknown, started: boolean): UserFacingError {
  return started
    ? new UserFacingError(
        'server-lost',
        'The image servers went down twice while making this image; please try again later.',
        { cause, detail: 'job lost its server again after being moved once' },
      )
    : new UserFacingError('servers-unavailable', 'No image server could take this job; please try again later.', {
        cause,
        detail: 'job lost its server before starting too many times',
      });
}

/**
 * What a job's record keeps of the error it failed with: the English sentence (logs, the web API, older releases), and
 * the catalogue sentences or the values of `error.<identifier>`, so that whichever process tells the member (after a
 * restart, or another process of a fleet) says it in the member's language.
 */
export function failureOf(error: UserFacingError): JobFailure {
  return {
    identifier: error.identifier,
    message: error.userMessage,
    ...(error.sentences === undefined ? {} : { sentences: [...error.sentences] }),
    ...(Object.keys(error.params).length === 0 ? {} : { params: { ...error.params } }),
  };
}

/**
 * The error a stored failure is told with. A record of an older release kept only the English text (said in the
 * member's language where the catalogue has it word for word); a sentence whose key this release does not know (a
 * record of a newer one) is told in the English it kept.
 */
export function errorOfFailure(failure: JobFailure | undefined): UserFacingError {
  if (failure === undefined) return new UserFacingError('job-failed', GENERIC_FAILURE);
  const { identifier, message, params } = failure;
  const sentences = failure.sentences?.map(knownSentence);
  if (sentences !== undefined && sentences.length > 0 && sentences.every((each) => each !== undefined)) {
    return new UserFacingError(identifier, sentences as Sentence[]);
  }
  return new UserFacingError(identifier, message, params === undefined ? undefined : { params });
}
