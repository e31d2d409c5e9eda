/**
 * ComfyUI's API-format graph: an object of node id -> `{ class_type, inputs, _meta }`, where an input is either a
 * literal value or a link `[source node id, output slot]`. This is what POST /prompt takes and what "Export (API)"
 * writes; the UI format (with `nodes` and `links` arrays) is a different thing we recognise only to refuse it.
 */
import { z } from 'zod';

/** One node of an API-format graph. Unknown fields are kept so the graph we submit is the graph the operator wrote. */
export const graphNodeSchema = z.looseObject({
  class_type: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()),
  _meta: z.looseObject({ title: z.string().optional() }).optional(),
});

/** A whole API-format graph. */
export const apiGraphSchema = z
  .record(z.string(), graphNodeSchema)
  .refine((graph) => Object.keys(graph).length > 0, 'has no nodes');

export type GraphNode = z.infer<typeof graphNodeSchema>;
export type ApiGraph = z.infer<typeof apiGraphSchema>;

/** A link from one node's output slot to another node's input. */
export type Link = readonly [nodeId: string, slot: number];

/** One literal input of one node: where a setting's value is written. */
export interface InputTarget {
  readonly nodeId: string;
  readonly input: string;
}

/** The sentence that tells people how to get an API-format export instead of the UI format. */
export const API_EXPORT_HINT =
  'In ComfyUI, open the workflow menu and choose "Export (API)" (older versions: enable "Dev mode options" in the ' +
  'settings, then "Save (API Format)"), and put that file here instead.';

/** True for a ComfyUI UI-format export (the one with `nodes` and `links` arrays), which POST /prompt cannot run. */
export function isUiExport(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const record = json as Record<string, unknown>;
  return Array.isArray(record['nodes']) && Array.isArray(record['links']);
}

/** True when an input value is a link to another node's output rather than a literal. */
export function isLink(value: unknown): value is Link {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'number' &&
    Number.isInteger(value[1])
  );
}

/** The node's title as the ComfyUI editor shows it, if the export kept one. */
export function nodeTitle(node: GraphNode): string | undefined {
  return node._meta?.title;
}

/** How a node is named in messages for people: `3 (KSampler)` or `3 "Base sampler" (KSampler)`. */
export function describeNode(graph: ApiGraph, nodeId: string): string {
  const node = graph[nodeId];
  if (!node) return `node ${nodeId}`;
  const title = nodeTitle(node);
  const titled = title !== undefined && title !== node.class_type ? ` "${title}"` : '';
  return `node ${nodeId}${titled} (${node.class_type})`;
}

/** `3.seed`, the short form of a target used in manifests and reports. */
export function formatTarget(target: InputTarget): string {
  return `${target.nodeId}.${target.input}`;
}

/** The ids of the nodes whose class is one of `classTypes`, in id order. */
export function nodesOfClass(graph: ApiGraph, classTypes: readonly string[]): string[] {
  return sortedIds(graph).filter((id) => classTypes.includes(graph[id]!.class_type));
}

/** Node ids in a stable, human order: numeric ids numerically, then the rest alphabetically. */
export function sortedIds(graph: ApiGraph): string[] {
  return Object.keys(graph).sort((a, b) => {
    const [numberA, numberB] = [Number(a), Number(b)];
    if (Number.isFinite(numberA) && Number.isFinite(numberB)) return numberA - numberB;
    return a.localeCompare(b);
  });
}

/** The nodes that read from `nodeId`'s outputs, with the input they read it on. */
export function consumersOf(graph: ApiGraph, nodeId: string): InputTarget[] {
  const consumers: InputTarget[] = [];
  for (const id of sortedIds(graph)) {
    for (const [input, value] of Object.entries(graph[id]!.inputs)) {
      if (isLink(value) && value[0] === nodeId) consumers.push({ nodeId: id, input });
    }
  }
  return consumers;
}

/** One sentence per link that points at a node the graph does not have (ComfyUI would fail the whole prompt). */
export function findBrokenLinks(graph: ApiGraph): string[] {
  const problems: string[] = [];
  for (const id of sortedIds(graph)) {
    for (const [input, value] of Object.entries(graph[id]!.inputs)) {
      if (isLink(value) && !graph[value[0]]) {
        problems.push(`${describeNode(graph, id)} input ${input} is linked to node ${value[0]}, which does not exist.`);
      }
    }
  }
  return problems;
}
