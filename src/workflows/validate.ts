/**
 * Checks a workflow against one server's `/object_info` before any member's job does: unknown node types, missing
 * required inputs, values out of range or not among the choices, model files the server lacks, links between
 * mismatched types. Pure; the result says on which server the workflow is usable and, if not, why.
 */
import { type ApiGraph, describeNode, formatTarget, isLink, type Link, sortedIds } from './graph.js';
import { modelKindOf } from './node-classes.js';
import { type InputSpec, inputSpecOf, listModels, type ObjectInfo, readInputSpec } from './object-info.js';
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
}

interface Check {
  readonly graph: ApiGraph;
  readonly objectInfo: ObjectInfo;
  /** `3.seed` -> the value a job will send when the member gives none; `null` for per-job values (seed, image). */
  readonly values: ReadonlyMap<string, unknown>;
  readonly prefix: string;
  readonly problems: string[];
}

/** Validates a workflow against a server's object_info. */
export function validateWorkflow(workflow: Workflow, objectInfo: ObjectInfo, serverName: string): WorkflowValidation {
  const prefix = `${workflow.name}: server ${serverName}`;
  const check: Check = { graph: workflow.graph, objectInfo, values: boundValues(workflow), prefix, problems: [] };
  if (Object.keys(objectInfo).length === 0) {
    check.problems.push(`${prefix} reported no node types (is its /object_info reachable?).`);
  } else {
    for (const nodeId of sortedIds(workflow.graph)) checkNode(check, nodeId);
    checkOutputs(check, workflow);
  }
  const warnings = [...choiceWarnings(workflow, objectInfo, prefix), ...limitWarnings(workflow, objectInfo, prefix)];
  const { problems } = check;
  return { workflow: workflow.name, server: serverName, ok: problems.length === 0, problems, warnings };
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
  const info = check.objectInfo[node.class_type];
  if (!info) {
    check.problems.push(
      `${check.prefix} has no node type ${node.class_type} (${describeNode(check.graph, nodeId)}); install the custom nodes that provide it, or update ComfyUI.`,
    );
    return;
  }
  for (const input of Object.keys(info.input?.required ?? {})) {
    if (!(input in node.inputs)) {
      check.problems.push(`${check.prefix}: ${describeNode(check.graph, nodeId)} lacks the required input ${input}.`);
    }
  }
  for (const [input, graphValue] of Object.entries(node.inputs)) {
    const spec = inputSpecOf(info, input);
    const parsed = spec ? readInputSpec(spec.raw) : undefined;
    if (!parsed) continue;
    if (isLink(graphValue)) checkLink(check, nodeId, input, graphValue, parsed);
    else {
      const key = `${nodeId}.${input}`;
      const value = check.values.has(key) ? check.values.get(key) : graphValue;
      if (value !== null) checkValue(check, nodeId, input, value, parsed);
    }
  }
}

function checkValue(check: Check, nodeId: string, input: string, value: unknown, spec: InputSpec): void {
  const where = `${describeNode(check.graph, nodeId)} input ${input}`;
  const classType = check.graph[nodeId]!.class_type;
  if (spec.kind === 'combo' && !spec.options.includes(value as string | number)) {
    const model = modelKindOf(classType, input);
    check.problems.push(
      model
        ? `${check.prefix} lacks ${model} ${String(value)} (node ${nodeId}).`
        : `${check.prefix}: ${where} is ${JSON.stringify(value)}, which is not one of ${listSome(spec.options)}.`,
    );
  }
  if (spec.kind === 'number') {
    if (typeof value !== 'number' || (spec.type === 'INT' && !Number.isInteger(value))) {
      check.problems.push(
        `${check.prefix}: ${where} is ${JSON.stringify(value)}, not ${spec.type === 'INT' ? 'a whole number' : 'a number'}.`,
      );
    } else if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
      check.problems.push(`${check.prefix}: ${where} is ${value}, outside the server's ${spec.min} to ${spec.max}.`);
    }
  }
}

function checkLink(check: Check, nodeId: string, input: string, link: Link, spec: InputSpec): void {
  const source = check.graph[link[0]];
  const sourceInfo = source ? check.objectInfo[source.class_type] : undefined;
  // Unknown source classes are reported on their own; widget inputs fed by links are ComfyUI's to check.
  if (!source || !sourceInfo?.output || spec.kind !== 'link') return;
  const outputType = sourceInfo.output[link[1]];
  const where = `${describeNode(check.graph, nodeId)} input ${input}`;
  if (outputType === undefined) {
    check.problems.push(
      `${check.prefix}: ${where} reads output ${link[1]} of ${describeNode(check.graph, link[0])}, which has only ${sourceInfo.output.length}.`,
    );
  } else if (typeof outputType === 'string' && !typesMatch(outputType, spec.type)) {
    check.problems.push(
      `${check.prefix}: ${where} takes ${spec.type} but is linked to a ${outputType} output of ${describeNode(check.graph, link[0])}.`,
    );
  }
}

// ComfyUI's own rule: "*" matches anything, and "IMAGE,MASK" style unions match any member.
function typesMatch(output: string, input: string): boolean {
  if (output === '*' || input === '*') return true;
  const inputs = input.split(',');
  return output.split(',').some((type) => inputs.includes(type));
}

function checkOutputs(check: Check, workflow: Workflow): void {
  for (const output of workflow.outputs) {
    const info = check.objectInfo[output.classType];
    if (info && info.output_node !== true) {
      check.problems.push(
        `${check.prefix}: ${describeNode(check.graph, output.nodeId)} is not an output node there, so nothing would be posted.`,
      );
    }
  }
}

function choiceWarnings(workflow: Workflow, objectInfo: ObjectInfo, prefix: string): string[] {
  const models = listModels(objectInfo);
  const lists = { checkpoint: models.checkpoints, lora: models.loras } as const;
  return (['checkpoint', 'lora'] as const).flatMap((name) => {
    const missing = (workflow.settings[name]?.choices ?? []).filter((choice) => !lists[name].includes(String(choice)));
    return missing.length > 0
      ? [`${prefix} lacks the ${name} choice${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`]
      : [];
  });
}

function limitWarnings(workflow: Workflow, objectInfo: ObjectInfo, prefix: string): string[] {
  return Object.values(workflow.settings).flatMap((spec) =>
    spec.targets.flatMap((target) => {
      const node = workflow.graph[target.nodeId]!;
      const info = objectInfo[node.class_type];
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
