/**
 * Turning node outputs (history `outputs[node]`, WebSocket `executed.output`) into what a job produced: files and
 * texts. Real servers put files under many keys: core nodes use `images` (videos too on 0.3.x, flagged by
 * `animated`), `video`, `audio` and `3d`; VideoHelperSuite uses `gifs` with a `format`; custom packs use their own.
 * So every entry that names a file is a file, whatever its key; plain strings under `text` (and string lists under
 * other keys) are texts. Paths a server reports about its own disk (VideoHelperSuite's `fullpath`) are never kept.
 */
import { extname } from 'node:path';
import { FileRefSchema, type NodeOutput } from './schemas.js';

/** What kind of output it is, for how it is shown and uploaded. */
export type OutputKind = 'image' | 'animated' | 'video' | 'audio' | 'model' | 'text' | 'other';

/**
 * One file a job produced, with the node that produced it; or one text (`kind: 'text'`), which carries its `text`
 * and a file name of our own (`text-8-1.txt`) so it can be listed, stored and attached like the files.
 */
export interface OutputFile {
  readonly node: string;
  readonly filename: string;
  readonly subfolder: string;
  /** `output` for saved files, `temp` for previews (PreviewImage), `text` for texts (nothing to download). */
  readonly type: string;
  readonly kind: OutputKind;
  readonly mimeType: string;
  /** The text of a text output. */
  readonly text?: string;
}

/** The folder type of texts: they live in the output itself, not on the server's disk. */
export const TEXT_OUTPUT_TYPE = 'text';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.m4v': 'video/x-m4v',
  '.avi': 'video/x-msvideo',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/opus',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.glb': 'model/gltf-binary',
  '.gltf': 'model/gltf+json',
  '.obj': 'model/obj',
  '.stl': 'model/stl',
  '.usdz': 'model/vnd.usdz+zip',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.json': 'application/json',
};

const KNOWN_MIME_TYPES = new Set(Object.values(MIME_TYPES));

// The jobs API of current ComfyUI turns bare strings with these endings (Preview3D's model file) into files too.
const MODEL_EXTENSIONS = new Set(['.obj', '.fbx', '.gltf', '.glb', '.usdz']);

/** The MIME type ComfyUI's `/view` would send for a file name. */
export function mimeTypeOf(filename: string): string {
  return MIME_TYPES[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The content type of an output file: its `format` when that is a MIME type (`image/gif`), or the container a
 * VideoHelperSuite format names (`video/h264-mp4` is an MP4); else what the extension says.
 */
export function contentTypeOf(filename: string, format?: string): string {
  const byFormat = format === undefined ? undefined : mimeTypeOfFormat(format.toLowerCase());
  return byFormat ?? mimeTypeOf(filename);
}

function mimeTypeOfFormat(format: string): string | undefined {
  if (KNOWN_MIME_TYPES.has(format)) return format;
  const match = /^(image|video|audio)\/(?:.*-)?([a-z0-9]+)$/.exec(format);
  const container = match ? `${match[1]}/${match[2]}` : undefined;
  return container !== undefined && KNOWN_MIME_TYPES.has(container) ? container : undefined;
}

function kindOf(mimeType: string, animated: boolean): OutputKind {
  if (mimeType.startsWith('video/')) return 'video';
  if (mimeType === 'image/gif') return 'animated';
  if (mimeType.startsWith('image/')) return animated ? 'animated' : 'image';
  if (mimeType.startsWith('audio/')) return 'audio';
  if (mimeType.startsWith('model/')) return 'model';
  if (mimeType.startsWith('text/')) return 'text';
  return 'other';
}

/** The files and texts listed in one node's output, in order. */
export function filesOfNodeOutput(node: string, output: NodeOutput): OutputFile[] {
  const animatedFlags = Array.isArray(output['animated']) ? (output['animated'] as unknown[]) : [];
  const found: OutputFile[] = [];
  let texts = 0;
  const addText = (text: string) => {
    texts += 1;
    const filename = `text-${node}-${texts}.txt`;
    found.push({ node, filename, subfolder: '', type: TEXT_OUTPUT_TYPE, kind: 'text', mimeType: 'text/plain', text });
  };
  for (const [key, entries] of Object.entries(output)) {
    // `animated` flags the images; nothing else that is not a list holds outputs.
    if (key === 'animated' || !Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, index) => {
      if (typeof entry === 'string') {
        const file = bareFile(node, entry);
        if (file) found.push(file);
        else if (!looksLikePath(entry, key === 'text')) addText(entry);
        return;
      }
      const ref = FileRefSchema.safeParse(entry);
      // An absolute file name would say where the server keeps its files; `/view` refuses it anyway.
      if (!ref.success || looksAbsolute(ref.data.filename)) return;
      const { filename, subfolder, type } = splitFolders(ref.data);
      const mimeType = contentTypeOf(filename, ref.data.format);
      // Core flags animation per image or once for all; VHS's `gifs` are animated by definition.
      const animated = animatedFlags[index] === true || animatedFlags[0] === true || key === 'gifs';
      found.push({ node, filename, subfolder, type, mimeType, kind: kindOf(mimeType, animated) });
    });
  }
  return found;
}

/** A bare string naming a 3D model in the output folder (Preview3D), as current ComfyUI's jobs API reads it. */
function bareFile(node: string, entry: string): OutputFile | undefined {
  if (!MODEL_EXTENSIONS.has(extname(entry).toLowerCase()) || looksAbsolute(entry) || /\s/.test(entry)) return undefined;
  const slash = entry.lastIndexOf('/');
  const filename = entry.slice(slash + 1);
  const subfolder = slash < 0 ? '' : entry.slice(0, slash);
  const mimeType = mimeTypeOf(filename);
  return { node, filename, subfolder, type: 'output', mimeType, kind: kindOf(mimeType, false) };
}

function looksAbsolute(text: string): boolean {
  return /^(?:\/|[A-Za-z]:[\\/]|\\\\)/.test(text);
}

/**
 * A string that names a file on the server rather than saying something: an absolute path to a file, and, under
 * keys other than `text`, any single word with an extension.
 */
function looksLikePath(text: string, isText: boolean): boolean {
  const fileName = /\.[A-Za-z0-9]{1,5}$/.test(text) && !text.includes('\n');
  if (looksAbsolute(text) && fileName) return true;
  return !isText && fileName && !/\s/.test(text);
}

// `/view` joins subfolder and filename, so `clips/a.mp4` with no subfolder is the same file as `a.mp4` in `clips`.
function splitFolders(ref: { filename: string; subfolder: string; type: string }): {
  filename: string;
  subfolder: string;
  type: string;
} {
  const slash = Math.max(ref.filename.lastIndexOf('/'), ref.filename.lastIndexOf('\\'));
  if (slash < 0) return ref;
  const folder = ref.filename.slice(0, slash).replaceAll('\\', '/');
  const subfolder = ref.subfolder === '' ? folder : `${ref.subfolder}/${folder}`;
  return { filename: ref.filename.slice(slash + 1), subfolder, type: ref.type };
}

/**
 * Collects node outputs from `executed` events and from history, so each node and each file is reported once. A node
 * in a loop (current ComfyUI) sends `executed` once per iteration: those outputs accumulate. History, the truth at the
 * end, replaces what events said about the same node.
 */
export class OutputCollector {
  private readonly fromEvents = new Map<string, NodeOutput[]>();
  private readonly fromHistory = new Map<string, NodeOutput>();

  /** Records a node's output from history; returns false when this node was already recorded. */
  add(node: string, output: NodeOutput): boolean {
    const isNew = !this.has(node);
    this.fromHistory.set(node, output);
    if (isNew) this.fromEvents.set(node, []);
    return isNew;
  }

  /** Records one `executed` output of a node; returns its files (and texts) not yet recorded for that node. */
  addExecuted(node: string, output: NodeOutput): OutputFile[] {
    const before = new Set(this.filesOf(node).map(keyOf));
    const outputs = this.fromEvents.get(node) ?? [];
    outputs.push(output);
    this.fromEvents.set(node, outputs);
    return filesOfNodeOutput(node, output).filter((file) => !before.has(keyOf(file)));
  }

  /** True when the node's output has been recorded. */
  has(node: string): boolean {
    return this.fromEvents.has(node) || this.fromHistory.has(node);
  }

  /** Every file and text, nodes in the order they were first recorded, each file once. */
  files(): OutputFile[] {
    const seen = new Set<string>();
    const files: OutputFile[] = [];
    for (const node of this.fromEvents.keys()) {
      for (const file of this.filesOf(node)) {
        const key = keyOf(file);
        if (seen.has(key)) continue;
        seen.add(key);
        files.push(file);
      }
    }
    return files;
  }

  private filesOf(node: string): OutputFile[] {
    const history = this.fromHistory.get(node);
    const outputs = history === undefined ? (this.fromEvents.get(node) ?? []) : [history];
    return outputs.flatMap((output) => filesOfNodeOutput(node, output));
  }
}

/** What makes a file (or a text) the same one: where it is, and for texts what they say. */
function keyOf(file: OutputFile): string {
  return [file.type, file.subfolder, file.filename, file.text ?? ''].join('\u0000');
}
