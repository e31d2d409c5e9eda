/**
 * ComfyUI's prompt validation (execution.validate_prompt / validate_inputs), reproduced rule for rule: the same
 * error types, messages, details and extra_info, the same "some outputs valid → 200 with node_errors" outcome, and
 * the same in-place coercion of widget values that ends up in history.
 */
import type { NodeEnvironment } from '../nodes/types.js';
import { pyStr } from '../server/py-json.js';
import { checkInputs } from './validate-inputs.js';
import { asPythonError, isRecord, type ValidationError, type Verdicts } from './validation-types.js';

export { isRecord, type ValidationError } from './validation-types.js';

/** node_errors[nodeId]. */
export interface NodeErrorEntry {
  readonly errors: readonly ValidationError[];
  readonly dependent_outputs: string[];
  readonly class_type: string;
}

/** The outcome: outputs to execute (possibly with errors on the rest) or the top-level error. */
export type ValidationResult =
  | { readonly valid: true; readonly outputs: string[]; readonly nodeErrors: Record<string, NodeErrorEntry> }
  | { readonly valid: false; readonly error: ValidationError; readonly nodeErrors: Record<string, NodeErrorEntry> };

const VALIDATION_TRACEBACK = [
  '  File "/opt/ComfyUI/execution.py", line 1084, in validate_prompt\n    m = await validate_inputs(prompt_id, prompt, o, validated)\n',
];

/** Validates an API-format graph in place (values are coerced like ComfyUI's). */
export function validatePrompt(
  prompt: Record<string, unknown>,
  partialTargets: unknown,
  environment: NodeEnvironment,
): ValidationResult {
  const outputs: string[] = [];
  for (const [nodeId, node] of Object.entries(prompt)) {
    const classType = isRecord(node) ? node['class_type'] : undefined;
    if (!isRecord(node) || !('class_type' in node)) {
      return invalidPrompt('Cannot execute because a node is missing the class_type property.', nodeId);
    }
    const info = typeof classType === 'string' ? environment.catalogue.info(classType) : undefined;
    if (!info) return invalidPrompt(`Cannot execute because node ${pyStr(classType)} does not exist.`, nodeId);
    if (info.outputNode && isTargeted(partialTargets, nodeId)) outputs.push(nodeId);
  }
  if (outputs.length === 0) {
    return { valid: false, error: topLevel('prompt_no_outputs', 'Prompt has no outputs', ''), nodeErrors: {} };
  }
  return validateOutputs(prompt, outputs, environment);
}

function validateOutputs(
  prompt: Record<string, unknown>,
  outputs: readonly string[],
  environment: NodeEnvironment,
): ValidationResult {
  const verdicts: Verdicts = new Map();
  const good: string[] = [];
  const failed: Array<readonly ValidationError[]> = [];
  const nodeErrors: Record<string, NodeErrorEntry> = {};
  for (const output of outputs) {
    const verdict = validateOutput(prompt, output, verdicts, environment);
    if (verdict.ok) {
      good.push(output);
      continue;
    }
    failed.push(verdict.errors);
    collectNodeErrors(prompt, output, verdicts, nodeErrors);
  }
  if (good.length === 0) {
    const details = failed.flatMap((errors) => errors.map((error) => `${error.message}: ${error.details}`)).join('\n');
    const error = topLevel('prompt_outputs_failed_validation', 'Prompt outputs failed validation', details);
    return { valid: false, error, nodeErrors };
  }
  return { valid: true, outputs: good, nodeErrors };
}

function validateOutput(
  prompt: Record<string, unknown>,
  output: string,
  verdicts: Verdicts,
  environment: NodeEnvironment,
): { ok: boolean; errors: readonly ValidationError[] } {
  try {
    return checkInputs(prompt, output, verdicts, environment);
  } catch (error) {
    const python = asPythonError(error);
    const errors: ValidationError[] = [
      {
        type: 'exception_during_validation',
        message: 'Exception when validating node',
        details: python.message,
        extra_info: { exception_type: python.exceptionType, traceback: VALIDATION_TRACEBACK },
      },
    ];
    verdicts.set(output, { ok: false, errors });
    return { ok: false, errors };
  }
}

/** Like ComfyUI, every failing node with reasons seen so far is charged with this output (even unrelated ones). */
function collectNodeErrors(
  prompt: Record<string, unknown>,
  output: string,
  verdicts: Verdicts,
  nodeErrors: Record<string, NodeErrorEntry>,
): void {
  for (const [nodeId, verdict] of verdicts) {
    if (verdict.ok || verdict.errors.length === 0) continue;
    const node = prompt[nodeId];
    nodeErrors[nodeId] ??= {
      errors: verdict.errors,
      dependent_outputs: [],
      class_type: pyStr(isRecord(node) ? node['class_type'] : undefined),
    };
    nodeErrors[nodeId].dependent_outputs.push(output);
  }
}

function isTargeted(targets: unknown, nodeId: string): boolean {
  if (targets === undefined || targets === null) return true;
  if (Array.isArray(targets)) return targets.some((target) => target === nodeId);
  return typeof targets === 'string' && targets.includes(nodeId);
}

function invalidPrompt(message: string, nodeId: string): ValidationResult {
  return { valid: false, error: topLevel('invalid_prompt', message, `Node ID '#${nodeId}'`), nodeErrors: {} };
}

function topLevel(type: string, message: string, details: string): ValidationError {
  return { type, message, details, extra_info: {} };
}
