/**
 * The one reader of `GET /object_info`: every node class a server has, with its inputs (types, limits, combo choices)
 * and outputs. Real servers send many shapes (0.3.x V1 nodes, V3 nodes with null fields, dynamic inputs, custom node
 * packs), so it reads per node and leniently: fields we do not use are ignored, and a node entry we cannot understand
 * is set aside with the reason, so that only the workflows using that node are affected.
 */
import { z } from 'zod';
import { describeBodyProblem, describeJsonType } from './answer-problems.js';

/** What the server says about one node class, reduced to what checking and binding a graph needs. */
export interface NodeInfo {
  /** Declared required inputs, name → the server's raw description (`["INT", {"min": 0}]`); read with `readInputSpec`. */
  readonly required: ReadonlyMap<string, unknown>;
  readonly optional: ReadonlyMap<string, unknown>;
  /** Output types in slot order, as sent (`"IMAGE"`, `"*"`, `"IMAGE,MASK"`; custom packs sometimes send lists). */
  readonly outputs: readonly unknown[];
  readonly outputNode: boolean;
  /** `nodes`, `comfy_extras.nodes_mask`, `custom_nodes.ComfyUI-Impact-Pack`…; absent on old servers. */
  readonly pythonModule?: string;
}

/** A server's node classes; `unreadable` holds the classes whose entry could not be read, with why. */
export interface ObjectInfo {
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  readonly unreadable: ReadonlyMap<string, string>;
}

/** The result of reading a body: the node classes, or why the body as a whole is unusable. */
export type ObjectInfoReading =
  { readonly ok: true; readonly info: ObjectInfo } | { readonly ok: false; readonly problem: string };

/** One input as the server describes it. */
export type InputSpec =
  | {
      readonly kind: 'combo';
      readonly options: readonly (string | number)[];
      /** The value is a list of choices (V3 multiselect). */
      readonly multiselect: boolean;
      /** False when the server does not check the value (remote combos, choices we could not read). */
      readonly checked: boolean;
    }
  | { readonly kind: 'number'; readonly type: 'INT' | 'FLOAT'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'primitive'; readonly type: string }
  /** V3 dynamic inputs (`COMFY_AUTOGROW_V3`…): the graph carries them under dotted keys (`images.image0`). */
  | { readonly kind: 'dynamic'; readonly type: string }
  | { readonly kind: 'link'; readonly type: string };

const inputGroupSchema = z.record(z.string(), z.unknown()).nullish();

// Only the fields checking a graph needs; everything else (display_name, search_aliases, price_badge…) may be
// anything, null included.
const nodeEntrySchema = z.looseObject({
  input: z.looseObject({ required: inputGroupSchema, optional: inputGroupSchema }).nullish(),
  output: z.array(z.unknown()).nullish(),
  output_node: z.unknown().optional(),
  python_module: z.unknown().optional(),
});

/** An empty reading, for a server that has not answered yet. */
export const NO_OBJECT_INFO: ObjectInfo = { nodes: new Map(), unreadable: new Map() };

/** Reads a `GET /object_info` body node by node; only a body that is not an object at all is unusable. */
export function parseObjectInfo(body: unknown): ObjectInfoReading {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problem: `its body is ${describeJsonType(body)}, not an object of node types` };
  }
  const nodes = new Map<string, NodeInfo>();
  const unreadable = new Map<string, string>();
  for (const [classType, entry] of Object.entries(body)) {
    const node = readNodeEntry(entry);
    if (typeof node === 'string') unreadable.set(classType, node);
    else nodes.set(classType, node);
  }
  return { ok: true, info: { nodes, unreadable } };
}

function readNodeEntry(entry: unknown): NodeInfo | string {
  const parsed = nodeEntrySchema.safeParse(entry);
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return `the entry is ${describeJsonType(entry)}`;
  if (!parsed.success) return describeBodyProblem('', entry, parsed.error.issues);
  const { input, output, output_node: outputNode, python_module: pythonModule } = parsed.data;
  return {
    required: new Map(Object.entries(input?.required ?? {})),
    optional: new Map(Object.entries(input?.optional ?? {})),
    outputs: output ?? [],
    outputNode: outputNode === true,
    ...(typeof pythonModule === 'string' ? { pythonModule } : {}),
  };
}

/**
 * Reads one input's description: `["INT", {"min": 1}]`, `[["a", "b"], {}]`, V3's `["COMBO", {"options": [...]}]`,
 * dynamic `["COMFY_AUTOGROW_V3", {...}]`, loose types (`"*"`, `"IMAGE,MASK"`); undefined when it says nothing usable.
 */
export function readInputSpec(raw: unknown): InputSpec | undefined {
  // Some custom packs write a bare type string instead of a one-element list.
  const description = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(description) || description.length === 0) return undefined;
  const [type, options] = description as [unknown, unknown];
  const config = typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
  if (Array.isArray(type)) return comboSpec(type, config);
  if (typeof type !== 'string') return undefined;
  if (type === 'COMBO') return comboSpec(config['options'], config);
  if (type === 'INT' || type === 'FLOAT') {
    const min = finite(config['min']);
    const max = finite(config['max']);
    return { kind: 'number', type, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
  }
  if (type === 'STRING' || type === 'BOOLEAN') return { kind: 'primitive', type };
  if (/^COMFY_\w+_V3$/.test(type)) return { kind: 'dynamic', type };
  return { kind: 'link', type };
}

function comboSpec(options: unknown, config: Record<string, unknown>): InputSpec {
  const list = Array.isArray(options) ? options : [];
  const readable = list.every((option) => typeof option === 'string' || typeof option === 'number');
  // Remote combos are filled in by the browser from another service, and ComfyUI does not check them.
  const remote = isPresent(config['remote']) || isPresent(config['remote_combo']);
  return {
    kind: 'combo',
    options: readable ? (list as (string | number)[]) : [],
    multiselect: config['multiselect'] === true,
    checked: Array.isArray(options) && readable && !remote,
  };
}

/** The raw description of one input of one node class, and whether the class requires it. */
export function inputSpecOf(node: NodeInfo, input: string): { raw: unknown; required: boolean } | undefined {
  if (node.required.has(input)) return { raw: node.required.get(input), required: true };
  return node.optional.has(input) ? { raw: node.optional.get(input), required: false } : undefined;
}

/** The declared inputs of a node class, required ones first. */
export function declaredInputs(node: NodeInfo): string[] {
  return [...node.required.keys(), ...node.optional.keys()];
}

/**
 * False for node classes whose declared types are not to be trusted: custom node packs declare wildcards under other
 * names (`AnyType`), and servers too old to name a node's module may be running any of them.
 */
export function hasCertainTypes(node: NodeInfo): boolean {
  return node.pythonModule !== undefined && !/^custom_nodes\b/.test(node.pythonModule);
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}
