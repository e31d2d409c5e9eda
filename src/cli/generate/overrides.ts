/**
 * `--set <node>.<input>=<value>`: an operator's override of any input of the bound graph, for what no setting covers
 * (a sampler name, a scheduler, an upscale factor). Pure: parsing returns a result, applying returns a new graph.
 */
import { describeNode, formatTarget, sortedIds, type ApiGraph } from '../../workflows/graph.js';
import type { Workflow } from '../../workflows/index.js';
import { inputSpecOf, type ObjectInfo } from '../../workflows/object-info.js';

/** One `--set`: the node (id or title), the input, and the value (JSON when it parses, else the text). */
export interface InputOverride {
  readonly node: string;
  readonly input: string;
  readonly value: unknown;
  /** The option as written, for error messages. */
  readonly text: string;
}

export type OverrideParseResult =
  { readonly ok: true; readonly override: InputOverride } | { readonly ok: false; readonly message: string };

export type OverrideApplyResult =
  | {
      readonly ok: true;
      readonly graph: ApiGraph;
      /** The inputs written, as `3.steps` (the node by id, whatever the `--set` called it). */
      readonly targets: readonly string[];
    }
  | { readonly ok: false; readonly message: string };

const SET_EXAMPLE = '--set KSampler.sampler_name=euler or --set 3.steps=30';

/** Reads `node.input=value`; the node part may hold dots (a title), the input is what follows the last one. */
export function parseOverride(text: string): OverrideParseResult {
  const equals = text.indexOf('=');
  const target = equals < 0 ? '' : text.slice(0, equals).trim();
  const dot = target.lastIndexOf('.');
  const node = dot < 0 ? '' : target.slice(0, dot).trim();
  const input = dot < 0 ? '' : target.slice(dot + 1).trim();
  if (node === '' || input === '') {
    return { ok: false, message: `--set takes <node>.<input>=<value>, e.g. ${SET_EXAMPLE}, not "${text}".` };
  }
  return { ok: true, override: { node, input, value: parseValue(text.slice(equals + 1)), text } };
}

/** `30` is a number, `true` a boolean, `["4", 0]` a link; anything that is not JSON is taken as text. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Writes every override into a copy of the graph. An unknown node, a title shared by several nodes, or an input the
 * node neither has nor (per the server's object_info, when given) accepts is an error naming the `--set`.
 */
export function applyOverrides(
  graph: ApiGraph,
  overrides: readonly InputOverride[],
  objectInfo?: ObjectInfo,
): OverrideApplyResult {
  if (overrides.length === 0) return { ok: true, graph, targets: [] };
  const copy = structuredClone(graph) as ApiGraph;
  const targets: string[] = [];
  for (const override of overrides) {
    const found = findNode(copy, override);
    if (!found.ok) return found;
    const node = copy[found.nodeId]!;
    const classInfo = objectInfo?.nodes.get(node.class_type);
    const known =
      override.input in node.inputs ||
      (classInfo !== undefined && inputSpecOf(classInfo, override.input) !== undefined);
    if (!known) {
      const inputs = Object.keys(node.inputs).join(', ') || 'no inputs';
      return refuse(
        override,
        `${describeNode(copy, found.nodeId)} has no input "${override.input}"; it has ${inputs}.`,
      );
    }
    node.inputs[override.input] = override.value;
    targets.push(`${found.nodeId}.${override.input}`);
  }
  return { ok: true, graph: copy, targets };
}

/**
 * The workflow with the overrides written into its graph, as it is checked against a server: a setting whose input an
 * override writes takes the override's value as its default, so the check (and the binding) sees that value (`--set 4.ckpt_name=<a checkpoint
 * the server has>` rescues a graph naming one it lacks). The overrides are written again after binding, so they win.
 */
export function overrideWorkflow(
  workflow: Workflow,
  overrides: readonly InputOverride[],
  objectInfo?: ObjectInfo,
): { ok: true; workflow: Workflow } | { ok: false; message: string } {
  if (overrides.length === 0) return { ok: true, workflow };
  const applied = applyOverrides(workflow.graph, overrides, objectInfo);
  if (!applied.ok) return applied;
  const overridden = new Set(applied.targets);
  const settings = Object.fromEntries(
    Object.entries(workflow.settings).map(([name, spec]) => {
      const target = spec.targets.find((candidate) => overridden.has(formatTarget(candidate)));
      if (target === undefined) return [name, spec];
      const value = applied.graph[target.nodeId]!.inputs[target.input];
      const { default: _default, ...rest } = spec;
      return [name, typeof value === 'string' || typeof value === 'number' ? { ...rest, default: value } : rest];
    }),
  ) as Workflow['settings'];
  return { ok: true, workflow: { ...workflow, graph: applied.graph, settings } };
}

function findNode(
  graph: ApiGraph,
  override: InputOverride,
): { ok: true; nodeId: string } | { ok: false; message: string } {
  if (graph[override.node]) return { ok: true, nodeId: override.node };
  const ids = sortedIds(graph);
  const exact = ids.filter((id) => graph[id]!._meta?.title === override.node);
  const wanted = override.node.toLowerCase();
  const matches = exact.length > 0 ? exact : ids.filter((id) => graph[id]!._meta?.title?.toLowerCase() === wanted);
  if (matches.length === 1) return { ok: true, nodeId: matches[0]! };
  if (matches.length > 1) {
    return refuse(
      override,
      `nodes ${matches.join(' and ')} are ${matches.length === 2 ? 'both' : 'all'} titled "${override.node}"; name the node by its id instead.`,
    );
  }
  const some = ids.slice(0, 12).map((id) => describeNode(graph, id).replace(/^node /, ''));
  const more = ids.length > some.length ? `, … ${ids.length - some.length} more` : '';
  return refuse(
    override,
    `the workflow has no node with the id or title "${override.node}"; it has ${some.join(', ')}${more}.`,
  );
}

function refuse(override: InputOverride, problem: string): { ok: false; message: string } {
  return { ok: false, message: `--set ${override.text}: ${problem}` };
}
