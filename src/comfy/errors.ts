/**
 * Typed ComfyUI failures. Each carries a stable identifier and one sentence a member may read (no server address, no
 * stack), plus a detailed `message` for the log and the fields a caller needs to act on it.
 */
import { describeRejection, type Rejection } from './validation-text.js';
import { UserFacingError } from '../errors.js';
import { sentence, type Sentence } from '../i18n/catalog.js';
import { memberSafeText } from './member-text.js';
import type { NodeErrors } from './schemas.js';

export { memberSafeText };

/** The base of every ComfyUI error; `server` is the configured server name (never its address). */
export class ComfyError extends UserFacingError {
  override readonly name: string = 'ComfyError';

  constructor(
    identifier: string,
    userMessage: string | Sentence,
    readonly server: string,
    options: { cause?: unknown; detail: string },
  ) {
    super(identifier, userMessage, { cause: options.cause, detail: `[comfy ${server}] ${options.detail}` });
  }
}

/** The server refused the connection, did not answer in time, or dropped it. */
export class ComfyUnreachableError extends ComfyError {
  override readonly name = 'ComfyUnreachableError';

  constructor(server: string, detail: string, cause?: unknown) {
    super('comfy-unreachable', 'The image server could not be reached; please try again in a minute.', server, {
      detail,
      cause,
    });
  }
}

/**
 * The server rejected the workflow (400 with `node_errors`), or accepted it with none of the outputs we need. Its
 * sentence stays in English whatever the member's language: it is ComfyUI's own validation text (and the node packs'),
 * quoted as ComfyUI wrote it, not a sentence of ours to translate.
 */
export class ComfyValidationError extends ComfyError {
  override readonly name = 'ComfyValidationError';

  constructor(
    server: string,
    /** The HTTP status of the answer: 400, or 200 when every output we asked for was dropped. */
    readonly status: number,
    /** ComfyUI's `error.type`, e.g. `prompt_outputs_failed_validation`. */
    readonly errorType: string,
    readonly errorMessage: string,
    readonly nodeErrors: NodeErrors,
    /** ComfyUI's `error.details` and `error.extra_info` (e.g. the class of a `missing_node_type`), when it sent them. */
    readonly errorInfo: { readonly details?: unknown; readonly extraInfo?: Readonly<Record<string, unknown>> } = {},
  ) {
    const rejection = { type: errorType, message: errorMessage, ...errorInfo };
    super('comfy-invalid-workflow', describeValidation(errorMessage, nodeErrors, rejection), server, {
      detail: `prompt rejected (HTTP ${status}, ${errorType}): ${errorMessage}; node_errors ${JSON.stringify(nodeErrors)}`,
    });
  }
}

/** One sentence naming the first failing node and why, or ComfyUI's top-level message when no node is named. */
export function describeValidation(errorMessage: string, nodeErrors: NodeErrors, rejection?: Rejection): string {
  const sentence = describeRejection(rejection ?? { type: '', message: errorMessage }, nodeErrors, memberSafeText);
  if (sentence !== undefined) return sentence;
  const first = Object.entries(nodeErrors)[0];
  if (!first) return `The image server rejected the workflow: ${memberSafeText(errorMessage || 'invalid prompt')}.`;
  const [nodeId, nodeError] = first;
  const problem = nodeError.errors[0];
  const what = problem ? [problem.message, problem.details].filter(Boolean).join(': ') : 'invalid node';
  const type = nodeError.class_type ? ` (${nodeError.class_type})` : '';
  return `The image server rejected the workflow: node ${nodeId}${type}: ${memberSafeText(what)}.`;
}

/** What ComfyUI reported when a node raised during execution (`execution_error`). */
export interface ExecutionFailure {
  readonly nodeId: string;
  readonly nodeType: string;
  readonly exceptionType: string;
  readonly exceptionMessage: string;
  readonly traceback: readonly string[];
}

/** A node failed while the prompt ran. */
export class ComfyExecutionError extends ComfyError {
  override readonly name = 'ComfyExecutionError';

  constructor(
    server: string,
    readonly promptId: string,
    readonly failure: ExecutionFailure,
  ) {
    const message = memberSafeText(failure.exceptionMessage) || failure.exceptionType || 'unknown error';
    const said = sentence('job.nodeFailed', { node: failure.nodeId, type: failure.nodeType, message });
    super('comfy-node-failed', said, server, {
      detail:
        `prompt ${promptId}: node ${failure.nodeId} (${failure.nodeType}) raised ${failure.exceptionType}: ` +
        `${failure.exceptionMessage}\n${failure.traceback.join('')}`,
    });
  }
}

/** The prompt was interrupted while running, or removed from the queue before it started. */
export class ComfyInterruptedError extends ComfyError {
  override readonly name = 'ComfyInterruptedError';

  constructor(
    server: string,
    readonly promptId: string,
    /** True when the prompt never ran: it was deleted from the queue. */
    readonly whileQueued: boolean,
    readonly nodeId?: string,
  ) {
    super(
      whileQueued ? 'comfy-removed-from-queue' : 'comfy-interrupted',
      whileQueued ? 'The job was cancelled before it started.' : 'The job was interrupted on the image server.',
      server,
      {
        detail: whileQueued
          ? `prompt ${promptId} disappeared from the queue without running (deleted)`
          : `prompt ${promptId} interrupted${nodeId === undefined ? '' : ` at node ${nodeId}`}`,
      },
    );
  }
}

/** The server no longer knows the prompt: it restarted (queue and history are in memory) or never had it. */
export class ComfyLostError extends ComfyError {
  override readonly name = 'ComfyLostError';

  constructor(
    server: string,
    readonly promptId: string,
    detail: string,
  ) {
    super('comfy-lost', 'The image server restarted and lost this job; please try again.', server, {
      detail: `prompt ${promptId} lost: ${detail}`,
    });
  }
}

/** No sign of the prompt (no event, no queue movement, not listed by the server) for longer than the stall timeout. */
export class ComfyStalledError extends ComfyError {
  override readonly name = 'ComfyStalledError';

  constructor(
    server: string,
    readonly promptId: string,
    readonly stallTimeoutMs: number,
    lastState: string,
  ) {
    super('comfy-stalled', 'The image server stopped making progress on this job; please try again.', server, {
      detail: `prompt ${promptId}: no event, no queue movement and no listing of it for ${stallTimeoutMs} ms (last state: ${lastState})`,
    });
  }
}

/**
 * The server answered, but with a status or a body we cannot use. `problem` says so for the log and the operator
 * (`GET /object_info answered, but its body is a list, not an object of node types`); such a server is never
 * reported as unreachable.
 */
export class ComfyProtocolError extends ComfyError {
  override readonly name = 'ComfyProtocolError';
  /** `<route> answered, but <what is wrong>` or `<route> answered HTTP 500: <its text>`. */
  readonly problem: string;

  constructor(
    server: string,
    /** The route, e.g. `GET /history/{id}`. */
    readonly route: string,
    /** What is wrong with the answer: `HTTP 500: …` for a status, else `its body is …`, `history.<id>.outputs is …`. */
    detail: string,
    /** The HTTP status, when the problem is the status itself. */
    readonly status?: number,
  ) {
    const problem = status === undefined ? `${route} answered, but ${detail}` : `${route} answered ${detail}`;
    super(status === 404 ? 'comfy-not-found' : 'comfy-protocol', protocolSentence(status), server, {
      detail: problem,
    });
    this.problem = problem;
  }
}

// The member reads one sentence; what the server sent (its text may name its files) stays in `problem` and the log.
function protocolSentence(status: number | undefined): string {
  if (status === 404) return 'The image server no longer has this file.';
  if (status !== undefined && status >= 500) return 'The image server ran into an internal error; please try again.';
  return 'The image server gave an answer the bot could not understand.';
}

/** The client was closed while the job was still being followed; the prompt may still run on the server. */
export class ComfyClosedError extends ComfyError {
  override readonly name = 'ComfyClosedError';

  constructor(
    server: string,
    readonly promptId: string,
  ) {
    super('comfy-client-closed', 'The bot stopped following this job; please try again.', server, {
      detail: `prompt ${promptId}: client closed while the job was in flight`,
    });
  }
}

/** An output file is larger than the bot accepts to download (`Content-Length`, or bytes counted while streaming). */
export class ComfyOutputTooLargeError extends ComfyError {
  override readonly name = 'ComfyOutputTooLargeError';

  constructor(
    server: string,
    readonly filename: string,
    readonly limitBytes: number,
    detail: string,
  ) {
    const limit =
      limitBytes >= 1024 * 1024 ? `${Math.floor(limitBytes / 1024 / 1024)} MB` : `${Math.ceil(limitBytes / 1024)} KB`;
    super('output-too-large', sentence('failure.outputTooLarge', { limit }), server, {
      detail: `GET /view ${filename}: ${detail}, over the limit of ${limitBytes} bytes`,
    });
  }
}
