/**
 * Resolves a manifest's references to nodes and inputs. A node is named by its id or, failing that, by its title
 * (`_meta.title`, what the ComfyUI editor shows), so manifests survive re-exports that renumber nodes.
 */
import { type ApiGraph, describeNode, type InputTarget, isLink, nodeTitle, sortedIds } from './graph.js';

export type Resolved<T> = { ok: true; value: T } | { ok: false; message: string };

/** Finds the node `ref` names: an id first, then a unique title. */
export function resolveNodeRef(graph: ApiGraph, ref: string): Resolved<string> {
  if (graph[ref]) return { ok: true, value: ref };
  const titled = sortedIds(graph).filter((id) => nodeTitle(graph[id]!) === ref);
  if (titled.length === 1) return { ok: true, value: titled[0]! };
  if (titled.length > 1) {
    return { ok: false, message: `the title "${ref}" is on nodes ${titled.join(', ')}; use the node id instead` };
  }
  const titles = sortedIds(graph)
    .map((id) => nodeTitle(graph[id]!))
    .filter((title): title is string => title !== undefined);
  const known = titles.length > 0 ? ` (titles: ${titles.map((title) => `"${title}"`).join(', ')})` : '';
  return { ok: false, message: `no node has the id or title "${ref}"${known}` };
}

/** Finds the literal input `ref` (`"3.seed"`, `"Base sampler.seed"`) names. */
export function resolveTargetRef(graph: ApiGraph, ref: string): Resolved<InputTarget> {
  // Input names never contain a dot, titles may: split at the last one.
  const dot = ref.lastIndexOf('.');
  const node = resolveNodeRef(graph, ref.slice(0, dot));
  if (!node.ok) return node;
  const nodeId = node.value;
  const input = ref.slice(dot + 1);
  const inputs = graph[nodeId]!.inputs;
  if (!(input in inputs)) {
    const names = Object.keys(inputs).join(', ') || 'none';
    return { ok: false, message: `${describeNode(graph, nodeId)} has no input "${input}" (it has ${names})` };
  }
  const value = inputs[input];
  if (isLink(value)) {
    return {
      ok: false,
      message: `${describeNode(graph, nodeId)} input "${input}" is linked from node ${value[0]}, so it holds no value to set; bind an input of node ${value[0]} instead`,
    };
  }
  return { ok: true, value: { nodeId, input } };
}
