/**
 * One sentence for the operator about anything that went wrong. Unlike a member, the operator may see server names,
 * addresses and ComfyUI's own messages; the full detail (stack, traceback, raw node_errors) goes to the log, shown
 * with `--verbose` or LOG_LEVEL=debug.
 */
import {
  ComfyExecutionError,
  ComfyInterruptedError,
  ComfyProtocolError,
  ComfyUnreachableError,
  ComfyValidationError,
  type NodeErrors,
} from '../../comfy/index.js';
import { isUserFacing } from '../../errors.js';

const MAX_NODES_SHOWN = 3;
const MAX_DETAIL = 160;

/** The sentence to print on stderr for an error. */
export function describeFailure(error: unknown): string {
  if (error instanceof ComfyValidationError) {
    const summary = summariseNodeErrors(error.nodeErrors) ?? firstLine(error.errorMessage);
    const type = error.errorType ? ` (${error.errorType})` : '';
    return sentence(`Server ${error.server} rejected the workflow${type}: ${summary}`);
  }
  if (error instanceof ComfyExecutionError) {
    const { nodeId, nodeType, exceptionType, exceptionMessage } = error.failure;
    const what = [exceptionType, firstLine(exceptionMessage)].filter(Boolean).join(': ') || 'unknown error';
    return sentence(`Node ${nodeId} (${nodeType}) failed on server ${error.server}: ${what}`);
  }
  if (error instanceof ComfyUnreachableError) {
    return sentence(`Server ${error.server} could not be reached (${withoutServerTag(error.message)})`);
  }
  // The server answered, so it is not "unreachable": say what in its answer could not be used.
  if (error instanceof ComfyProtocolError) return sentence(`Server ${error.server}: ${cut(error.problem)}`);
  if (error instanceof ComfyInterruptedError) {
    return error.whileQueued
      ? `The job was removed from the queue of server ${error.server} before it ran.`
      : `The job was interrupted on server ${error.server}.`;
  }
  if (isUserFacing(error)) return sentence(firstLine(error.userMessage));
  const message = error instanceof Error ? error.message : String(error);
  return sentence(`Something went wrong: ${firstLine(message)}`);
}

/** `node 5 (EmptyLatentImage): Value 999999 bigger than max of 16384: width; node 4 …`, or undefined when empty. */
export function summariseNodeErrors(nodeErrors: NodeErrors): string | undefined {
  const entries = Object.entries(nodeErrors);
  if (entries.length === 0) return undefined;
  const shown = entries.slice(0, MAX_NODES_SHOWN).map(([nodeId, nodeError]) => {
    const type = nodeError.class_type ? ` (${nodeError.class_type})` : '';
    const problems = nodeError.errors.map((item) => [item.message, item.details].filter(Boolean).join(': '));
    return `node ${nodeId}${type}: ${cut(problems.join(', ') || 'invalid')}`;
  });
  const more = entries.length > shown.length ? `; and ${entries.length - shown.length} more nodes` : '';
  return `${shown.join('; ')}${more}`;
}

function withoutServerTag(message: string): string {
  return firstLine(message.replace(/^\[comfy [^\]]*\]\s*/, ''));
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find(Boolean) ?? ''
  );
}

function cut(text: string): string {
  const folded = text.replace(/\s+/g, ' ');
  return folded.length > MAX_DETAIL ? `${folded.slice(0, MAX_DETAIL - 1)}…` : folded;
}

/** Ends the text with one full stop. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
