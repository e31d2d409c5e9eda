/**
 * Whether an error says the store could not be reached (Redis restarting, crashed, or the network between), rather
 * than that something was refused or broken: then a member can be told to try again in a minute. The store's Redis
 * client fails such commands at once instead of holding them (redis-backend.ts), so a handler meets them directly.
 */

/** node-redis's errors for a connection that is not there (by class name: the client is the store's, not ours). */
const AWAY_ERRORS = new Set([
  'ClientOfflineError',
  'ClientClosedError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
]);
const AWAY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** True when `error`, or an error it was caused by, says the store is out of reach. */
export function isStoreAway(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    if (AWAY_ERRORS.has(cause.constructor.name)) return true;
    if (AWAY_CODES.has((cause as NodeJS.ErrnoException).code ?? '')) return true;
  }
  return false;
}
