/**
 * How current ComfyUI serves a node's `/object_info` entry, derived from the 0.3.64 entry as PROTOCOL-current.md §5
 * lays it out (server.py@002c3fb9 for V1 nodes, `asdict(NodeInfoV1)` of comfy_api/latest/_io.py@04e2a914 for V3
 * nodes). The catalogue serves 0.3.64's entries as recorded; the `current` mode passes each through here. Works on
 * the JSON tree, so numbers stay written as recorded (`1.0`, `18446744073709551615`).
 */
import { dumpPyJson, parseJsonTree, type JsonTree } from '../nodes/py-json-tree.js';

type Entries = ReadonlyArray<readonly [string, JsonTree]>;

/** V3 nodes' keys, every one always present, in `asdict` order. */
const V3_KEYS = [
  'input',
  'input_order',
  'is_input_list',
  'output',
  'output_is_list',
  'output_name',
  'output_tooltips',
  'output_matchtypes',
  'name',
  'display_name',
  'description',
  'python_module',
  'category',
  'output_node',
  'deprecated',
  'experimental',
  'dev_only',
  'api_node',
  'price_badge',
  'search_aliases',
  'essentials_category',
  'has_intermediate_output',
] as const;

/** What V3 nodes default each new key to (`search_aliases` is null when empty). */
const V3_DEFAULTS: Readonly<Record<string, unknown>> = {
  is_input_list: false,
  output_matchtypes: null,
  dev_only: false,
  price_badge: null,
  search_aliases: null,
  essentials_category: null,
  has_intermediate_output: false,
};

/**
 * V1 nodes whose entry changed beyond the new keys: SaveImage and PreviewImage now pass their images on (an IMAGE
 * output), and SaveImage has search aliases and an essentials category (§5, example 1).
 */
const V1_CHANGES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  SaveImage: {
    output: ['IMAGE'],
    output_is_list: [false],
    output_name: ['images'],
    search_aliases: ['save', 'save image', 'export image', 'output image', 'write image', 'download'],
    essentials_category: 'Basics',
  },
  PreviewImage: { output: ['IMAGE'], output_is_list: [false], output_name: ['images'] },
};

const memo = new Map<string, string>();

/** The entry current ComfyUI serves, as JSON text, for a node whose 0.3.64 entry is `infoText`. */
export function currentNodeInfoText(infoText: string): string {
  let text = memo.get(infoText);
  if (text === undefined) memo.set(infoText, (text = dumpPyJson(currentNodeInfo(parseJsonTree(infoText)))));
  return text;
}

/** The entry current ComfyUI serves for a node whose 0.3.64 entry is `info`. */
export function currentNodeInfo(info: JsonTree): JsonTree {
  if (info.kind !== 'object') return info;
  const entries = isV3(info.entries) ? currentV3Entries(info.entries) : currentV1Entries(info.entries);
  return { kind: 'object', entries };
}

/** 0.3.64 already served V3 nodes with `output_tooltips`, `deprecated`, `experimental` and `api_node` always set. */
function isV3(entries: Entries): boolean {
  const keys = new Set(entries.map(([key]) => key));
  return ['output_tooltips', 'deprecated', 'experimental', 'api_node'].every((key) => keys.has(key));
}

function currentV3Entries(entries: Entries): Entries {
  const byKey = new Map(entries);
  return V3_KEYS.map((key) => [key, byKey.get(key) ?? toTree(V3_DEFAULTS[key] ?? null)] as const);
}

function currentV1Entries(entries: Entries): Entries {
  const name = entries.find(([key]) => key === 'name')?.[1];
  const changes = (name?.kind === 'string' ? V1_CHANGES[name.value] : undefined) ?? {};
  const out: Array<readonly [string, JsonTree]> = [];
  for (const [key, value] of entries) {
    out.push([key, key in changes ? toTree(changes[key]) : value]);
    // server.py@002c3fb9 puts is_input_list right after input_order.
    if (key === 'input_order') out.push(['is_input_list', toTree(false)]);
  }
  if (!out.some(([key]) => key === 'is_input_list')) out.push(['is_input_list', toTree(false)]);
  out.push(['has_intermediate_output', toTree(false)]);
  out.push(['search_aliases', toTree(changes['search_aliases'] ?? [])]);
  if (changes['essentials_category'] !== undefined) {
    out.push(['essentials_category', toTree(changes['essentials_category'])]);
  }
  return out;
}

/** A plain JSON value as a tree. */
function toTree(value: unknown): JsonTree {
  if (value === null || typeof value === 'boolean') return { kind: 'literal', value };
  if (typeof value === 'string') return { kind: 'string', value };
  if (typeof value === 'number') return { kind: 'number', text: String(value) };
  if (Array.isArray(value)) return { kind: 'array', items: value.map(toTree) };
  const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, toTree(item)] as const);
  return { kind: 'object', entries };
}
