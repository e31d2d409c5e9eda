/**
 * `--set <node>.<input>=<value>`: an operator's override of any input of the bound graph, for what no setting covers
 * (a sampler name, a scheduler, an upscale factor). Pure: parsing returns a result, applying returns a new graph.
 */
import { describeNode, sortedIds, type ApiGraph } from '../../workflows/graph.js';
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
  { readonly ok: true; readonly graph: ApiGraph } | { readonly ok: false; readonly message: string };

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
  if (overrides.length === 0) return { ok: true, graph };
  const copy = structuredClone(graph) as ApiGraph;
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
  }
  return { ok: true, graph: copy };
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
