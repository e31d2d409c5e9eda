/**
 * What a REST route handler receives and returns, and the errors it throws (Discord's JSON error shapes).
 */
import type { RecordedFile } from './call-log.js';

/** A parsed REST request. */
export interface RestRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The JSON body or multipart `payload_json`; `null` when there was none. */
  readonly body: unknown;
  readonly files: readonly RecordedFile[];
  readonly receivedAt: number;
}

/** A handler's answer: JSON body, or none for 204. */
export interface RestResponse {
  readonly status: number;
  readonly body?: unknown;
}

/** A route handler. */
export type RouteHandler = (request: RestRequest) => RestResponse | Promise<RestResponse>;

/** An error answer in Discord's shape: `{ message, code, errors? }`. */
export class DiscordHttpError extends Error {
  override readonly name = 'DiscordHttpError';

  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: unknown,
  ) {
    super(message);
  }

  /** The JSON body Discord sends for this error. */
  toJSON(): Record<string, unknown> {
    return { message: this.message, code: this.code, ...(this.errors === undefined ? {} : { errors: this.errors }) };
  }
}

/** The errors the fake produces, with Discord's codes and messages. */
export const errors = {
  notFound: () => new DiscordHttpError(404, 0, '404: Not Found'),
  unauthorized: () => new DiscordHttpError(401, 0, '401: Unauthorized'),
  unknownChannel: () => new DiscordHttpError(404, 10003, 'Unknown Channel'),
  unknownMessage: () => new DiscordHttpError(404, 10008, 'Unknown Message'),
  unknownWebhook: () => new DiscordHttpError(404, 10015, 'Unknown Webhook'),
  unknownGuild: () => new DiscordHttpError(404, 10004, 'Unknown Guild'),
  unknownMember: () => new DiscordHttpError(404, 10007, 'Unknown Member'),
  unknownUser: () => new DiscordHttpError(404, 10013, 'Unknown User'),
  unknownInteraction: () => new DiscordHttpError(404, 10062, 'Unknown interaction'),
  alreadyAcknowledged: () => new DiscordHttpError(400, 40060, 'Interaction has already been acknowledged.'),
  invalidWebhookToken: () => new DiscordHttpError(401, 50027, 'Invalid Webhook Token'),
  missingAccess: () => new DiscordHttpError(403, 50001, 'Missing Access'),
  missingPermissions: () => new DiscordHttpError(403, 50013, 'Missing Permissions'),
  cannotEditOthers: () => new DiscordHttpError(403, 50005, 'Cannot edit a message authored by another user'),
  cannotMessageUser: () => new DiscordHttpError(403, 50007, 'Cannot send messages to this user'),
  emptyMessage: () => new DiscordHttpError(400, 50006, 'Cannot send an empty message'),
  tooLarge: () => new DiscordHttpError(413, 40005, 'Request entity too large'),
  invalidJson: () => new DiscordHttpError(400, 50109, 'The request body contains invalid JSON.'),
  threadArchived: () => new DiscordHttpError(400, 50083, 'Thread is archived'),
  threadAlreadyCreated: () => new DiscordHttpError(400, 160004, 'A thread has already been created for this message'),
  /** 400 50035 with Discord's nested `errors` object built from field paths. */
  invalidFormBody: (problems: readonly { path: readonly (string | number)[]; code: string; message: string }[]) =>
    new DiscordHttpError(400, 50035, 'Invalid Form Body', nestErrors(problems)),
};

function nestErrors(problems: readonly { path: readonly (string | number)[]; code: string; message: string }[]) {
  const root: Record<string, unknown> = {};
  for (const problem of problems) {
    let node = root;
    for (const key of problem.path) {
      const name = String(key);
      node[name] ??= {};
      node = node[name] as Record<string, unknown>;
    }
    const list = (node._errors ??= []) as { code: string; message: string }[];
    list.push({ code: problem.code, message: problem.message });
  }
  return root;
}
