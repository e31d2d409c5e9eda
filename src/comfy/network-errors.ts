/**
 * Telling "the server could not be reached" apart from programming errors, across Node's socket errors and undici's.
 */

/** Error codes meaning the connection was refused, timed out, or dropped. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function codesOf(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 3) return [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const nested = [cause, ...(Array.isArray(errors) ? errors : [])].flatMap((inner) => codesOf(inner, depth + 1));
  return typeof code === 'string' ? [code, ...nested] : nested;
}

/** True when the error says the server could not be reached (also through `cause` and `AggregateError`s). */
export function isUnreachable(error: unknown): boolean {
  return codesOf(error).some((code) => UNREACHABLE_CODES.has(code));
}

/** A short description for the log: the codes and the message. */
export function describeFailure(error: unknown): string {
  const codes = [...new Set(codesOf(error))].join('/');
  const message = error instanceof Error ? error.message : String(error);
  return codes ? `${codes} ${message}` : message;
}
