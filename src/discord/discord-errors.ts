/**
 * Which Discord failures are worth trying again. A 4xx answer is deterministic: the same request gets the same answer
 * (a missing permission, a file too large, a channel or message that no longer exists), so a delivery goes on to the
 * next way of reaching the member instead. Rate limits, 5xx answers and network failures pass: the same request is
 * tried again later, across restarts if need be.
 */
import { DiscordAPIError, HTTPError, RESTJSONErrorCodes } from 'discord.js';

/**
 * What a failure says about the next try: `transient` (the same request later), `body` (the same place, a smaller
 * message: without files), `place` (somewhere else: the channel, a direct message).
 */
export type FailureKind = 'transient' | 'body' | 'place';

/** The codes that blame what was sent rather than where. */
const BODY_CODES: ReadonlySet<number> = new Set([
  RESTJSONErrorCodes.RequestEntityTooLarge,
  RESTJSONErrorCodes.InvalidFormBodyOrContentType,
  RESTJSONErrorCodes.CannotSendAnEmptyMessage,
]);

/** Classifies a failed REST call; `withFiles` says whether the request carried files. */
export function classifyFailure(error: unknown, withFiles: boolean): FailureKind {
  const status = statusOf(error);
  if (status === undefined || status === 429 || status >= 500 || status === 408) return 'transient';
  if (status === 413) return 'body';
  if (status < 400) return 'transient';
  const code = error instanceof DiscordAPIError ? Number(error.code) : undefined;
  if (code !== undefined && BODY_CODES.has(code)) return 'body';
  // Missing Permissions on a message with files is most often Attach Files: try once more without them.
  if (code === RESTJSONErrorCodes.MissingPermissions && withFiles) return 'body';
  return 'place';
}

/** The Discord error code, for logs. */
export function codeOf(error: unknown): number | string | undefined {
  return error instanceof DiscordAPIError ? error.code : undefined;
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof DiscordAPIError || error instanceof HTTPError) return error.status;
  return undefined;
}
