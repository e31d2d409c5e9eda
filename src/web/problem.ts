/**
 * Errors of the web API as `application/problem+json` (RFC 9457): a status, a stable `code` (the same identifiers the
 * Discord layer logs), a short title and one sentence in `detail` that says what to fix. Nothing else reaches the
 * caller: server addresses, paths and stack traces stay in the log.
 */
import type { ServerResponse } from 'node:http';
import { isUserFacing } from '../errors.js';

/** An answer of the API that is not a success. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';

  constructor(
    readonly status: number,
    /** A stable identifier such as `bad-flag`; part of the API. */
    readonly code: string,
    /** One sentence for the caller. */
    readonly detail: string,
  ) {
    super(detail);
  }
}

// Which of the job layer's refusals mean what in HTTP; anything else a caller could fix is a 422.
const STATUS_OF: Readonly<Record<string, number>> = {
  'job-unknown': 404,
  'job-not-yours': 404,
  'job-finished': 409,
  'member-limit': 429,
  'queue-full': 429,
  'runner-stopped': 503,
  'servers-down': 503,
  'store-unavailable': 503,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The problem to answer for any error: its own, a member-facing sentence, or a generic 500. */
export function problemOf(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (isUserFacing(error))
    return new ApiProblem(STATUS_OF[error.identifier] ?? 422, error.identifier, error.userMessage);
  return new ApiProblem(500, 'internal-error', 'Something went wrong on our side; please try again.');
}

/** The JSON body of a problem. */
export function problemBody(problem: ApiProblem, instance?: string) {
  return {
    // about:blank: the status says what kind of problem it is; `code` tells the cases apart.
    type: 'about:blank',
    title: TITLES[problem.status] ?? 'Error',
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
    ...(instance === undefined ? {} : { instance }),
  };
}

/** Writes a problem answer (unless an answer was already started, e.g. an event stream). */
export function sendProblem(response: ServerResponse, problem: ApiProblem, instance?: string): void {
  if (response.headersSent) return void response.end();
  const headers: Record<string, string> = { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' };
  if (problem.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="comfycord"';
  response.writeHead(problem.status, headers).end(JSON.stringify(problemBody(problem, instance)));
}
