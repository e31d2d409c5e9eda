/**
 * One sentence for a member about why ComfyUI refused a workflow, for every error type of 0.3.x and of current
 * ComfyUI (`missing_node_type`, `dependency_cycle`, `invalid_dynamic_input`, loop errors; PROTOCOL-current.md §2).
 * The sentence says what to fix in the workflow; ComfyUI's own wording, tracebacks and ids stay in the log.
 */
import type { NodeErrors } from './schemas.js';

/** The top-level `error` of a refused prompt, as far as the sentence needs it. */
export interface Rejection {
  readonly type: string;
  readonly message: string;
  readonly details?: unknown;
  readonly extraInfo?: Readonly<Record<string, unknown>>;
}

/** Reasons of current ComfyUI's loop validation (`extra_info.loop_error_type`). */
const LOOP_PROBLEMS: Readonly<Record<string, string>> = {
  loop_end_cycle: "the loop's end is wired back into the loop",
  loop_end_without_start: 'a loop end has no matching loop start',
  loop_start_without_end: 'a loop start has no matching loop end',
  ambiguous_loop_nesting: 'loops are nested so that the server cannot tell which end belongs to which start',
  loop_escape: 'a value made inside the loop is used outside it',
  loop_accumulate_from_body: 'the loop accumulates a value made inside its own body',
};

/**
 * The sentence for a refusal, or undefined when the error is of no type this module knows (the caller then falls
 * back to ComfyUI's own message). `safe` makes text from the server fit for a member.
 */
export function describeRejection(
  rejection: Rejection,
  nodeErrors: NodeErrors,
  safe: (text: string) => string,
): string | undefined {
  const missing = missingNodeType(rejection);
  if (missing !== undefined) {
    return missing.classType === undefined
      ? `The workflow has a node without a type${missing.nodeId === undefined ? '' : ` (node ${safe(missing.nodeId)})`}; the workflow file may be damaged.`
      : `The workflow uses a node type the image server does not have: ${safe(missing.classType)}.`;
  }
  if (rejection.type === 'invalid_prompt_id')
    return 'The image server refused the job id the bot chose; please try again.';
  if (rejection.type === 'prompt_no_outputs') {
    return 'The workflow has no output node (such as Save Image), so the image server has nothing to make.';
  }
  return describeNodeError(nodeErrors, safe);
}

/** The node type a `missing_node_type` (current) or `invalid_prompt` (0.3.x) error names; undefined for others. */
function missingNodeType(rejection: Rejection): { nodeId?: string; classType?: string } | undefined {
  const nodeId = typeof rejection.details === 'string' ? /^Node ID '#(.*)'$/s.exec(rejection.details)?.[1] : undefined;
  if (rejection.type === 'missing_node_type') {
    const info = rejection.extraInfo ?? {};
    const classType =
      typeof info['class_type'] === 'string' && info['class_type'] !== '' ? info['class_type'] : undefined;
    const id = typeof info['node_id'] === 'string' ? info['node_id'] : nodeId;
    return { nodeId: id, classType };
  }
  if (rejection.type !== 'invalid_prompt') return undefined;
  const unknown = /^Cannot execute because node (.+) does not exist\.$/s.exec(rejection.message);
  if (unknown) return { nodeId, classType: unknown[1] };
  if (rejection.message.startsWith('Cannot execute because a node is missing the class_type property')) {
    return { nodeId };
  }
  return undefined;
}

function describeNodeError(nodeErrors: NodeErrors, safe: (text: string) => string): string | undefined {
  for (const [nodeId, nodeError] of Object.entries(nodeErrors)) {
    const node = `node ${safe(nodeId)}${nodeError.class_type ? ` (${safe(nodeError.class_type)})` : ''}`;
    for (const problem of nodeError.errors) {
      const info = problem.extra_info ?? {};
      if (problem.type === 'dependency_cycle') {
        const path = problem.details ? ` (${safe(problem.details)})` : '';
        return `The workflow's nodes are linked in a circle${path}: a node cannot depend on its own result.`;
      }
      if (problem.type === 'invalid_dynamic_input') {
        const input = typeof info['input_name'] === 'string' ? `: ${safe(info['input_name'])}` : '';
        return `In the workflow, ${node} has an input the image server does not accept${input}.`;
      }
      const loop = typeof info['loop_error_type'] === 'string' ? LOOP_PROBLEMS[info['loop_error_type']] : undefined;
      if (problem.type === 'custom_validation_failed' && loop !== undefined) {
        return `The workflow's loop at ${node} is not wired correctly: ${loop}.`;
      }
    }
  }
  return undefined;
}
