/**
 * Checks a workflow against one server's `/object_info` before any member's job does. It refuses only what the server
 * would certainly refuse: an unknown node type, a missing required input, a value outside a declared range or not
 * among a combo's choices (a model file the server lacks), a link between types that certainly differ. Custom nodes
 * accept inputs their node info does not declare and declare types loosely (`*`, `AnyType`, `IMAGE,MASK`), so
 * undeclared inputs pass and links are type-checked only between node classes whose types are certain. Pure; the
 * result says on which server the workflow is usable and, if not, why.
 */
import { type ApiGraph, describeNode, formatTarget, isLink, type Link, sortedIds } from './graph.js';
import { modelKindOf } from './node-classes.js';
import { hasCertainTypes, type InputSpec, inputSpecOf, type ObjectInfo, readInputSpec } from '../comfy/object-info.js';
import { spellingIn } from './file-spellings.js';
import { listModels } from './object-info.js';
import { findOutputNodes } from './output-nodes.js';
import type { Workflow } from './workflow.js';

/** Whether one workflow can run on one server, and every reason it cannot. */
export interface WorkflowValidation {
  readonly workflow: string;
  readonly server: string;
  readonly ok: boolean;
  /** Sentences such as "portrait: server gpu-2 lacks checkpoint sdxl_base_1.0.safetensors (node 4)." */
  readonly problems: readonly string[];
  /** Things that work but not fully: a manifest choice the server lacks, a limit above the server's. */
  readonly warnings: readonly string[];
  /**
   * Of the problems, those only about the model or LoRAs a member may choose (the server lacks the workflow's own):
   * with a choice the server has, the workflow runs there.
   */
  readonly modelProblems: readonly string[];
}

interface Check {
  readonly graph: ApiGraph;
  readonly objectInfo: ObjectInfo;
  /** `3.seed` -> the value a job will send when the member gives none; `null` for per-job values (seed, image). */
  readonly values: ReadonlyMap<string, unknown>;
  readonly prefix: string;
  readonly problems: string[];
  /** `4.ckpt_name`: the inputs a member's model or LoRA choice replaces. */
  readonly choosable: ReadonlySet<string>;
  readonly modelProblems: string[];
}

/** Validates a workflow against a server's object_info. */
export function validateWorkflow(workflow: Workflow, objectInfo: ObjectInfo, serverName: string): WorkflowValidation {
  const prefix = `${workflow.name}: server ${serverName}`;
  const check: Check = {
    graph: workflow.graph,
    objectInfo,
    values: boundValues(workflow),
    prefix,
    problems: [],
    choosable: choosableInputs(workflow),
    modelProblems: [],
  };
  if (objectInfo.nodes.size === 0) {
    check.problems.push(`${prefix} reported no node types it could be checked against.`);
  } else {
    for (const nodeId of sortedIds(workflow.graph)) checkNode(check, nodeId);
    checkOutputs(check, workflow);
  }
  const warnings = [...choiceWarnings(workflow, objectInfo, prefix), ...limitWarnings(workflow, objectInfo, prefix)];
  const { problems, modelProblems } = check;
  return { workflow: workflow.name, server: serverName, ok: problems.length === 0, problems, warnings, modelProblems };
}

function choosableInputs(workflow: Workflow): Set<string> {
  return new Set(
    (['checkpoint', 'lora'] as const).flatMap((name) => (workflow.settings[name]?.targets ?? []).map(formatTarget)),
  );
}

function boundValues(workflow: Workflow): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const spec of Object.values(workflow.settings)) {
    const perJob = spec.name === 'seed' || spec.name === 'image' || spec.name === 'prompt';
    for (const target of spec.targets) {
      if (perJob) values.set(formatTarget(target), null);
      else if (spec.default !== undefined) values.set(formatTarget(target), spec.default);
    }
  }
  return values;
}

function checkNode(check: Check, nodeId: string): void {
  const node = check.graph[nodeId]!;
  const info = check.objectInfo.nodes.get(node.class_type);
  if (!info) {
    const unreadable = check.objectInfo.unreadable.get(node.class_type);
    check.problems.push(
      unreadable === undefined
        ? `${check.prefix} has no node type ${node.class_type} (${describeNode(check.graph, nodeId)}); install the custom nodes that provide it, or update ComfyUI.`
        : `${check.prefix}: node type ${node.class_type} (${describeNode(check.graph, nodeId)}): the server's description of it could not be read (${unreadable}).`,
    );
    return;
  }
  for (const input of info.required.keys()) {
    if (!hasInput(node.inputs, input)) {
      check.problems.push(`${check.prefix}: ${describeNode(check.graph, nodeId)} lacks the required input ${input}.`);
    }
  }
  // Inputs the node info does not declare are the node's business: custom nodes accept more than they declare.
  for (const [input, graphValue] of Object.entries(node.inputs)) {
    const spec = inputSpecOf(info, input);
    const parsed = spec ? readInputSpec(spec.raw) : undefined;
    if (!parsed) continue;
    if (isLink(graphValue)) checkLink(check, nodeId, input, graphValue, parsed);
    else {
      const key = `${nodeId}.${input}`;
      const value = check.values.has(key) ? check.values.get(key) : graphValue;
      if (value !== null) checkValue(check, nodeId, input, unwrapValue(value), parsed);
    }
  }
}

// V3 dynamic inputs arrive under dotted keys: `images` is given as `images.image0`, `images.image1`.
function hasInput(inputs: Readonly<Record<string, unknown>>, input: string): boolean {
  return Object.hasOwn(inputs, input) || Object.keys(inputs).some((key) => key.startsWith(`${input}.`));
}

// New servers let a widget value be wrapped as {"__value__": v} (so a literal list is not taken for a link).
function unwrapValue(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, '__value__')) {
    return (value as { __value__: unknown }).__value__;
  }
  return value;
}

function checkValue(check: Check, nodeId: string, input: string, value: unknown, spec: InputSpec): void {
  if (spec.kind === 'combo') checkChoice(check, nodeId, input, value, spec);
  if (spec.kind === 'number') checkNumber(check, nodeId, input, value, spec);
}

function checkChoice(
  check: Check,
  nodeId: string,
  input: string,
  value: unknown,
  spec: Extract<InputSpec, { kind: 'combo' }>,
): void {
  if (!spec.checked) return;
  const values = spec.multiselect && Array.isArray(value) ? (value as unknown[]) : [value];
  // Only plain values can be compared with the choices; anything else is the server's to judge.
  // A file spelled with the other kind of slash is the same file: it is sent in the server's own spelling.
  const strings = spec.options.filter((option): option is string => typeof option === 'string');
  const missing = values.filter(
    (item) =>
      (typeof item === 'number' && !spec.options.includes(item)) ||
      (typeof item === 'string' && spellingIn(strings, item) === undefined),
  );
  if (missing.length === 0) return;
  const model = modelKindOf(check.graph[nodeId]!.class_type, input);
  const where = `${describeNode(check.graph, nodeId)} input ${input}`;
  const problem = model
    ? `${check.prefix} lacks ${model} ${missing.map(String).join(', ')} (node ${nodeId}).`
    : `${check.prefix}: ${where} is ${missing.map((item) => JSON.stringify(item)).join(', ')}, which is not one of ${listSome(spec.options)}.`;
  check.problems.push(problem);
  if (check.choosable.has(`${nodeId}.${input}`)) check.modelProblems.push(problem);
}

// ComfyUI converts a widget value with int() or float() before comparing it with the limits: 7.5 is a fine INT (7),
// "7" too; only a value that does not convert, or lies outside the limits, is refused.
function checkNumber(
  check: Check,
  nodeId: string,
  input: string,
  value: unknown,
  spec: Extract<InputSpec, { kind: 'number' }>,
): void {
  const where = `${describeNode(check.graph, nodeId)} input ${input}`;
  const converted = typeof value === 'number' || typeof value === 'boolean' ? Number(value) : numberOf(value);
  if (converted === undefined) {
    check.problems.push(`${check.prefix}: ${where} is ${JSON.stringify(value)}, not a number.`);
    return;
  }
  const number = spec.type === 'INT' ? Math.trunc(converted) : converted;
  if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) {
    check.problems.push(
      `${check.prefix}: ${where} is ${number}, outside the server's ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}.`,
    );
  }
}

function numberOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function checkLink(check: Check, nodeId: string, input: string, link: Link, spec: InputSpec): void {
  const source = check.graph[link[0]];
  const sourceInfo = source ? check.objectInfo.nodes.get(source.class_type) : undefined;
  const targetInfo = check.objectInfo.nodes.get(check.graph[nodeId]!.class_type);
  // Unknown source classes are reported on their own; widget inputs fed by links are ComfyUI's to check; and custom
  // node packs declare outputs and types loosely, so only links between classes with certain types are checked.
  if (!source || !sourceInfo || !targetInfo || spec.kind !== 'link') return;
  if (!hasCertainTypes(sourceInfo) || !hasCertainTypes(targetInfo)) return;
  const outputType = sourceInfo.outputs[link[1]];
  const where = `${describeNode(check.graph, nodeId)} input ${input}`;
  if (outputType === undefined) {
    check.problems.push(
      `${check.prefix}: ${where} reads output ${link[1]} of ${describeNode(check.graph, link[0])}, which has only ${sourceInfo.outputs.length}.`,
    );
  } else if (typeof outputType === 'string' && !typesMatch(outputType, spec.type)) {
    check.problems.push(
      `${check.prefix}: ${where} takes ${spec.type} but is linked to a ${outputType} output of ${describeNode(check.graph, link[0])}.`,
    );
  }
}

// ComfyUI's own rule: "*" matches anything, and "IMAGE,MASK" style unions match when they share a member.
function typesMatch(output: string, input: string): boolean {
  if (output === '*' || input === '*') return true;
  const inputs = input.split(',').map((type) => type.trim());
  return output.split(',').some((type) => type.trim() === '*' || inputs.includes('*') || inputs.includes(type.trim()));
}

function checkOutputs(check: Check, workflow: Workflow): void {
  // No output node known by class: the server's own output nodes are what it will run and report.
  if (workflow.outputs.length === 0 && findOutputNodes(check.graph, check.objectInfo).length === 0) {
    check.problems.push(`${check.prefix}: the workflow has no output node there, so nothing would be posted.`);
  }
  for (const output of workflow.outputs) {
    const info = check.objectInfo.nodes.get(output.classType);
    if (info && !info.outputNode) {
      check.problems.push(
        `${check.prefix}: ${describeNode(check.graph, output.nodeId)} is not an output node there, so nothing would be posted.`,
      );
    }
  }
}

function choiceWarnings(workflow: Workflow, objectInfo: ObjectInfo, prefix: string): string[] {
  const models = listModels(objectInfo);
  const lists = { checkpoint: models.checkpoints, lora: models.loras } as const;
  const warnings = (['checkpoint', 'lora'] as const).flatMap((name) => {
    const missing = (workflow.settings[name]?.choices ?? []).filter(
      (choice) => spellingIn(lists[name], String(choice)) === undefined,
    );
    return missing.length > 0
      ? [`${prefix} lacks the ${name} choice${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`]
      : [];
  });
  const loader = workflow.loras?.mode === 'insert' && (workflow.loras.clip ? 'LoraLoader' : 'LoraLoaderModelOnly');
  if (loader && !objectInfo.nodes.has(loader))
    warnings.push(`${prefix} has no ${loader}, so LoRAs cannot be added there.`);
  return warnings;
}

// Seeds are not warned about: binding draws them within the server's cap (see `settingRanges`).
function limitWarnings(workflow: Workflow, objectInfo: ObjectInfo, prefix: string): string[] {
  const settings = Object.values(workflow.settings).filter((spec) => spec.name !== 'seed');
  return settings.flatMap((spec) =>
    spec.targets.flatMap((target) => {
      const node = workflow.graph[target.nodeId]!;
      const info = objectInfo.nodes.get(node.class_type);
      const server = info ? readInputSpec(inputSpecOf(info, target.input)?.raw) : undefined;
      if (server?.kind !== 'number' || server.max === undefined || spec.max === undefined || spec.max <= server.max)
        return [];
      return [
        `${prefix}: ${spec.name} allows up to ${spec.max}, but ${describeNode(workflow.graph, target.nodeId)} takes at most ${server.max} there.`,
      ];
    }),
  );
}

function listSome(options: readonly (string | number)[]): string {
  const shown = options.slice(0, 8).map((option) => JSON.stringify(option));
  if (options.length === 0) return "the server's choices (it has none)";
  return `the server's choices (${shown.join(', ')}${options.length > shown.length ? `, … ${options.length - shown.length} more` : ''})`;
}
