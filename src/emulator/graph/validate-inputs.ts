/**
 * validate_inputs for one node: required inputs, links (shape, return type, upstream validity), widget value
 * conversion and min/max/combo checks, then the node's own VALIDATE_INPUTS.
 */
import type { InputType, NodeInfo } from '../nodes/node-info.js';
import type { NodeEnvironment, NodeImplementation } from '../nodes/types.js';
import { pyRepr } from '../server/py-json.js';
import { PythonError } from './py-coerce.js';
import { checkWidget } from './widget-checks.js';
import { asPythonError, isRecord, type ValidationError, type Verdicts } from './validation-types.js';

const INNER_TRACEBACK = [
  '  File "/opt/ComfyUI/execution.py", line 877, in validate_inputs\n    r = await validate_inputs(prompt_id, prompt, o_id, validated)\n',
];

type Verdict = { ok: boolean; errors: readonly ValidationError[] };

/** Nodes whose validation is under way, per walk: a link back to one of them is a cycle. */
const inProgress = new WeakMap<Verdicts, Set<string>>();

/** Validates node `nodeId` (and, through links, its ancestors), memoised in `verdicts`. */
export function checkInputs(
  prompt: Record<string, unknown>,
  nodeId: string,
  verdicts: Verdicts,
  environment: NodeEnvironment,
): Verdict {
  const known = verdicts.get(nodeId);
  if (known) return known;
  const active = inProgress.get(verdicts) ?? new Set<string>();
  inProgress.set(verdicts, active);
  // Python recurses until it hits its recursion limit; the outcome is the same error, reached sooner.
  if (active.has(nodeId)) throw new PythonError('RecursionError', 'maximum recursion depth exceeded');
  active.add(nodeId);
  try {
    return checkNode(prompt, nodeId, verdicts, environment);
  } finally {
    active.delete(nodeId);
  }
}

function checkNode(
  prompt: Record<string, unknown>,
  nodeId: string,
  verdicts: Verdicts,
  environment: NodeEnvironment,
): Verdict {
  const node = prompt[nodeId] as Record<string, unknown>;
  if (!('inputs' in node)) throw new PythonError('KeyError', "'inputs'");
  const inputs = (isRecord(node['inputs']) ? node['inputs'] : {}) as Record<string, unknown>;
  // The limits come from the node info the emulator serves, so what it checks is what it announces.
  const classType = String(node['class_type']);
  const info = environment.catalogue.info(classType) as NodeInfo;
  const implementation = environment.catalogue.implementation(classType);
  const customInputs = implementation?.validateInputs?.inputs ?? [];
  const walk: Walk = { prompt, verdicts, environment, customInputs };
  const errors: ValidationError[] = [];
  let valid = true;
  for (const [name, spec] of Object.entries({ ...info.required, ...info.optional })) {
    if (!(name in inputs)) {
      if (name in info.required) errors.push(missing(name));
      continue;
    }
    const outcome = checkInput(walk, inputs, name, spec);
    if (outcome === 'upstream-invalid') valid = false;
    else if (outcome) errors.push(outcome);
  }
  if (implementation?.validateInputs) errors.push(...runCustomValidation(implementation, inputs, environment));
  const verdict: Verdict = errors.length > 0 || !valid ? { ok: false, errors } : { ok: true, errors: [] };
  verdicts.set(nodeId, verdict);
  return verdict;
}

interface Walk {
  readonly prompt: Record<string, unknown>;
  readonly verdicts: Verdicts;
  readonly environment: NodeEnvironment;
  readonly customInputs: readonly string[];
}

function checkInput(
  walk: Walk,
  inputs: Record<string, unknown>,
  name: string,
  info: readonly [InputType, Readonly<Record<string, unknown>>],
): ValidationError | 'upstream-invalid' | undefined {
  const value = inputs[name];
  if (Array.isArray(value)) return checkLink(walk.prompt, name, value, info, walk.verdicts, walk.environment);
  return checkWidget(inputs, name, info, walk.customInputs.includes(name));
}

function checkLink(
  prompt: Record<string, unknown>,
  name: string,
  link: unknown[],
  info: readonly [InputType, Readonly<Record<string, unknown>>],
  verdicts: Verdicts,
  environment: NodeEnvironment,
): ValidationError | 'upstream-invalid' | undefined {
  if (link.length !== 2) {
    return {
      type: 'bad_linked_input',
      message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
      details: name,
      extra_info: { input_name: name, input_config: info, received_value: link },
    };
  }
  const [sourceId, slot] = link;
  const source = lookupNode(prompt, sourceId);
  const receivedType = returnTypeAt(environment.catalogue.info(String(source['class_type'])), slot);
  if (!typesMatch(receivedType, info[0])) {
    return {
      type: 'return_type_mismatch',
      message: 'Return type mismatch between linked nodes',
      details: `${name}, received_type(${typeText(receivedType)}) mismatch input_type(${typeText(info[0])})`,
      extra_info: { input_name: name, input_config: info, received_type: receivedType, linked_node: link },
    };
  }
  try {
    return checkInputs(prompt, String(sourceId), verdicts, environment).ok ? undefined : 'upstream-invalid';
  } catch (error) {
    const python = asPythonError(error);
    const reasons: ValidationError[] = [
      {
        type: 'exception_during_inner_validation',
        message: 'Exception when validating inner node',
        details: python.message,
        extra_info: {
          input_name: name,
          input_config: info,
          exception_message: python.message,
          exception_type: python.exceptionType,
          traceback: INNER_TRACEBACK,
          linked_node: link,
        },
      },
    ];
    verdicts.set(String(sourceId), { ok: false, errors: reasons });
    return 'upstream-invalid';
  }
}

function lookupNode(prompt: Record<string, unknown>, sourceId: unknown): Record<string, unknown> {
  const key = typeof sourceId === 'string' ? sourceId : undefined;
  const node = key === undefined ? undefined : prompt[key];
  if (!isRecord(node)) throw new PythonError('KeyError', pyRepr(sourceId));
  return node;
}

function returnTypeAt(info: NodeInfo | undefined, slot: unknown): unknown {
  const types = info?.returnTypes ?? [];
  if (typeof slot !== 'number' || !Number.isInteger(slot)) {
    throw new PythonError('TypeError', `tuple indices must be integers or slices, not ${pyTypeNameOf(slot)}`);
  }
  const type = types[slot < 0 ? types.length + slot : slot];
  if (type === undefined) throw new PythonError('IndexError', 'tuple index out of range');
  return type;
}

function pyTypeNameOf(value: unknown): string {
  if (value === null) return 'NoneType';
  if (typeof value === 'number') return 'float';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** ComfyUI's validate_node_input: `*` matches anything, comma lists match on any shared member. */
function typesMatch(received: unknown, expected: InputType): boolean {
  if (received === '*' || expected === '*') return true;
  if (typeof received !== 'string' || typeof expected !== 'string') return false;
  if (received === expected) return true;
  const wanted = new Set(expected.split(',').map((part) => part.trim()));
  return received.split(',').some((part) => wanted.has(part.trim()));
}

function typeText(type: unknown): string {
  return typeof type === 'string' ? type : pyRepr(type);
}

function runCustomValidation(
  implementation: NodeImplementation,
  inputs: Record<string, unknown>,
  environment: NodeEnvironment,
): ValidationError[] {
  const hook = implementation.validateInputs;
  if (!hook) return [];
  const values: Record<string, unknown> = {};
  for (const name of hook.inputs) if (name in inputs && !Array.isArray(inputs[name])) values[name] = inputs[name];
  const verdict = hook.check(values, environment);
  if (verdict === true) return [];
  return Object.keys(values).map((name) => ({
    type: 'custom_validation_failed',
    message: 'Custom validation failed for node',
    details: verdict === false ? name : `${name} - ${verdict}`,
    extra_info: { input_name: name },
  }));
}

/** Missing required input. */
function missing(name: string): ValidationError {
  return {
    type: 'required_input_missing',
    message: 'Required input is missing',
    details: name,
    extra_info: { input_name: name },
  };
}
