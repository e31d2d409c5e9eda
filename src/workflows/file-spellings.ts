/**
 * One file, two spellings: a ComfyUI server on Windows lists the files in its model folders as `SDXL\model.safetensors`
 * where one on Linux lists `SDXL/model.safetensors`, and a workflow exported on one may run on the other. Inside the
 * bot a file goes by its portable name (forward slashes); each server is sent the spelling it listed itself, since
 * ComfyUI checks a combo value against its own list letter for letter. Case is kept: on Linux `A` and `a` are two files.
 */
import { declaredInputs, type InputSpec, inputSpecOf, type ObjectInfo, readInputSpec } from '../comfy/object-info.js';
import type { ApiGraph } from './graph.js';

/** The name with forward slashes: how the bot names a file whichever server listed it. */
export function portableName(name: string): string {
  return name.replace(/\\/g, '/');
}

/** True when two names spell the same file (they differ at most in the kind of slash). */
export function sameFile(a: string, b: string): boolean {
  return a === b || portableName(a) === portableName(b);
}

/** The names of a list once each, in their portable spelling and their first order. */
export function portableNames(names: readonly string[]): string[] {
  return [...new Set(names.map(portableName))];
}

/** The spelling `list` uses for the file `name` names, or undefined when the list does not have it. */
export function spellingIn(list: readonly string[], name: string): string | undefined {
  if (list.includes(name)) return name;
  const wanted = portableName(name);
  return list.find((listed) => portableName(listed) === wanted);
}

/**
 * A server's own spellings of the files its combo inputs list, by node class and input, for the names that hold a
 * folder (the only ones two systems spell apart): `CheckpointLoaderSimple` › `ckpt_name` › portable name → as listed.
 */
export type FileSpellings = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The spellings a server's `/object_info` lists. */
export function fileSpellingsOf(objectInfo: ObjectInfo): FileSpellings {
  const spellings = new Map<string, Map<string, string>>();
  for (const [classType, node] of objectInfo.nodes) {
    for (const input of declaredInputs(node)) {
      const spec = readInputSpec(inputSpecOf(node, input)?.raw);
      const byName = spec ? foldered(spec) : undefined;
      if (byName && byName.size > 0) spellings.set(inputKey(classType, input), byName);
    }
  }
  return spellings;
}

/**
 * The graph with every file name in a combo input written as this server lists it (a copy; the original when nothing
 * changed). A name the server lists under no spelling is left as it is, for validation or the server to refuse.
 */
export function respellFiles(graph: ApiGraph, spellings: FileSpellings): ApiGraph {
  let copy: ApiGraph | undefined;
  for (const [nodeId, node] of Object.entries(graph)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      if (typeof value !== 'string' || !/[\\/]/.test(value)) continue;
      const spelled = spellings.get(inputKey(node.class_type, input))?.get(portableName(value));
      if (spelled === undefined || spelled === value) continue;
      copy ??= structuredClone(graph) as ApiGraph;
      copy[nodeId]!.inputs[input] = spelled;
    }
  }
  return copy ?? graph;
}

function foldered(spec: InputSpec): Map<string, string> | undefined {
  if (spec.kind !== 'combo') return undefined;
  const byName = new Map<string, string>();
  for (const option of spec.options) {
    if (typeof option === 'string' && /[\\/]/.test(option)) byName.set(portableName(option), option);
  }
  return byName;
}

function inputKey(classType: string, input: string): string {
  return `${classType}\u0000${input}`;
}
