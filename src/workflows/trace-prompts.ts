/**
 * Finds the text encoders that feed a sampler's positive and negative inputs, following conditioning links through
 * simple intermediate nodes (combiners, area and timestep setters, ControlNet appliers, Flux guidance).
 */
import { type ApiGraph, type InputTarget, isLink, nodesOfClass, sortedIds } from './graph.js';
import { CONDITIONING_DEAD_ENDS, PROMPT_SINKS, TEXT_ENCODERS } from './node-classes.js';

export type PromptSide = 'positive' | 'negative';

/** What feeds one side of every sampler: the text encoders found, and nodes we could not see through. */
export interface TracedSide {
  /** Text encoder node ids, in id order. */
  readonly encoders: readonly string[];
  /** Nodes on the conditioning path that are neither encoders nor something we know how to follow. */
  readonly unknown: readonly string[];
  /** Whether any sampler or guider takes this side at all. */
  readonly hasSink: boolean;
}

// Deeper chains than this are not "simple" any more; a manifest says what is meant.
const MAX_DEPTH = 8;

/** Traces one side (positive or negative) from every sampler and guider in the graph. */
export function traceSide(graph: ApiGraph, side: PromptSide): TracedSide {
  const encoders = new Set<string>();
  const unknown = new Set<string>();
  let hasSink = false;
  for (const sinkId of nodesOfClass(graph, Object.keys(PROMPT_SINKS))) {
    const sink = graph[sinkId]!;
    const inputName = PROMPT_SINKS[sink.class_type]?.[side];
    if (inputName === undefined || !(inputName in sink.inputs)) continue;
    hasSink = true;
    walk(graph, sink.inputs[inputName], side, 0, new Set(), { encoders, unknown });
  }
  return { encoders: ordered(graph, encoders), unknown: ordered(graph, unknown), hasSink };
}

/** The text inputs of an encoder node that hold literal text (links to text nodes are not ours to rewrite). */
export function textInputsOf(graph: ApiGraph, encoderId: string): InputTarget[] {
  const node = graph[encoderId];
  if (!node) return [];
  return (TEXT_ENCODERS[node.class_type] ?? [])
    .filter((input) => typeof node.inputs[input] === 'string')
    .map((input) => ({ nodeId: encoderId, input }));
}

function walk(
  graph: ApiGraph,
  value: unknown,
  side: PromptSide,
  depth: number,
  visited: Set<string>,
  found: { encoders: Set<string>; unknown: Set<string> },
): void {
  if (!isLink(value)) return;
  const nodeId = value[0];
  const node = graph[nodeId];
  if (!node || visited.has(nodeId)) return;
  visited.add(nodeId);
  if (node.class_type in TEXT_ENCODERS) {
    found.encoders.add(nodeId);
    return;
  }
  if ((CONDITIONING_DEAD_ENDS as readonly string[]).includes(node.class_type)) return;
  const next = Object.entries(node.inputs).filter(
    ([input, inputValue]) => isLink(inputValue) && (input.startsWith('conditioning') || input === side),
  );
  if (next.length === 0 || depth >= MAX_DEPTH) {
    found.unknown.add(nodeId);
    return;
  }
  for (const [, inputValue] of next) walk(graph, inputValue, side, depth + 1, visited, found);
}

function ordered(graph: ApiGraph, ids: Set<string>): string[] {
  return sortedIds(graph).filter((id) => ids.has(id));
}
