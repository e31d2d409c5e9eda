/**
 * Which nodes of a graph are its outputs, and what each produces (images, video, audio, text...). Without a server
 * this reads the node classes comfycord knows and the inputs only saving nodes have (`filename_prefix`); with a
 * server's `/object_info` every node the server flags `output_node` counts, so custom packs' savers are found too.
 */
import { type ApiGraph, isLink, sortedIds } from './graph.js';
import { PREVIEW_OUTPUTS, SAVING_INPUTS, SAVING_OUTPUTS, TEXT_OUTPUT_CLASSES } from './node-classes.js';
import { type NodeInfo, type ObjectInfo, readInputSpec } from './object-info.js';

/** What an output node does with its results: saves files, shows previews (temp files), or shows text. */
export type OutputRole = 'saves' | 'previews' | 'text';

/** One output node of a graph. */
export interface FoundOutput {
  readonly nodeId: string;
  readonly role: OutputRole;
  /** What it produces, for people: `images`, `video`, `animated images`, `text`... */
  readonly produces: string;
}

/** Every output node of the graph, in id order; with `objectInfo`, as that server sees them. */
export function findOutputNodes(graph: ApiGraph, objectInfo?: ObjectInfo): FoundOutput[] {
  return sortedIds(graph).flatMap((nodeId) => {
    const role = roleOf(graph, nodeId, objectInfo);
    return role === undefined ? [] : [{ nodeId, role, produces: producesOf(graph, nodeId, objectInfo) }];
  });
}

/** The outputs posted by default: the saving nodes and the text nodes, or, when nothing saves, the previews. */
export function defaultOutputs(found: readonly FoundOutput[]): FoundOutput[] {
  const saving = found.filter((output) => output.role === 'saves');
  return saving.length > 0
    ? found.filter((output) => output.role !== 'previews')
    : found.filter((output) => output.role === 'previews' || output.role === 'text');
}

function roleOf(graph: ApiGraph, nodeId: string, objectInfo?: ObjectInfo): OutputRole | undefined {
  const node = graph[nodeId]!;
  const classType = node.class_type;
  const info = objectInfo?.nodes.get(classType);
  // The server's word decides; the tables speak for servers we have not asked, or that lack the node.
  if (info && !info.outputNode) return undefined;
  if (TEXT_OUTPUT_CLASSES.includes(classType)) return 'text';
  if (classType in PREVIEW_OUTPUTS) return 'previews';
  const savingInput = SAVING_INPUTS.some((input) => input in node.inputs || declares(info, input));
  if (classType in SAVING_OUTPUTS || savingInput) return 'saves';
  if (!info) return undefined;
  return takesOnly(info, ['STRING', '*']) ? 'text' : 'previews';
}

/** What a node produces, for `--check` and `/workflows`. */
export function producesOf(graph: ApiGraph, nodeId: string, objectInfo?: ObjectInfo): string {
  const node = graph[nodeId]!;
  if (node.class_type === 'VHS_VideoCombine') return videoCombineProduces(node.inputs['format']);
  if (TEXT_OUTPUT_CLASSES.includes(node.class_type)) return 'text';
  const known = SAVING_OUTPUTS[node.class_type] ?? PREVIEW_OUTPUTS[node.class_type];
  if (known !== undefined) return known;
  const info = objectInfo?.nodes.get(node.class_type);
  const types = info ? inputTypes(info) : linkedTypes(graph, nodeId, objectInfo);
  if (types.includes('IMAGE')) return 'images';
  if (types.includes('VIDEO')) return 'video';
  if (types.includes('AUDIO')) return 'audio';
  if (types.includes('MESH')) return '3D model';
  if (info && takesOnly(info, ['STRING', '*'])) return 'text';
  return 'files';
}

// VideoHelperSuite's format is `image/gif`, `image/webp` (Pillow) or `video/<ffmpeg format>` (`video/h264-mp4`).
function videoCombineProduces(format: unknown): string {
  if (typeof format !== 'string') return 'video';
  if (format.startsWith('image/') || /^video\/.*gif/.test(format)) return 'animated images';
  if (/^video\/.*png$/.test(format)) return 'images';
  return 'video';
}

function declares(info: NodeInfo | undefined, input: string): boolean {
  return info !== undefined && (info.required.has(input) || info.optional.has(input));
}

/** The types of the inputs a node class declares (combo inputs count as `COMBO`). */
function inputTypes(info: NodeInfo): string[] {
  const specs = [...info.required.values(), ...info.optional.values()];
  return specs.flatMap((raw) => {
    const spec = readInputSpec(raw);
    if (!spec) return [];
    if (spec.kind === 'combo') return ['COMBO'];
    return spec.type.split(',');
  });
}

function takesOnly(info: NodeInfo, types: readonly string[]): boolean {
  const declared = inputTypes(info);
  return declared.length > 0 && declared.every((type) => types.includes(type));
}

// Without the node's own info, what flows into it says what it shows (a custom saver fed images saves images).
function linkedTypes(graph: ApiGraph, nodeId: string, objectInfo?: ObjectInfo): string[] {
  return Object.values(graph[nodeId]!.inputs).flatMap((value) => {
    if (!isLink(value)) return [];
    const source = graph[value[0]];
    const output = source ? objectInfo?.nodes.get(source.class_type)?.outputs[value[1]] : undefined;
    if (typeof output === 'string') return [output];
    return source?.class_type === 'VAEDecode' ? ['IMAGE'] : [];
  });
}
