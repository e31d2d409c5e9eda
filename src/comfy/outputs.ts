/**
 * Turning node outputs (history `outputs[node]`, WebSocket `executed.output`) into the list of files a job produced.
 * Core nodes put every file under `images` (videos too, flagged by `animated`); VideoHelperSuite uses `gifs` with a
 * `format`. Text, audio and other keys without file entries are skipped.
 */
import { extname } from 'node:path';
import { FileRefSchema, type NodeOutput } from './schemas.js';

/** What kind of file an output is, for how it is shown and uploaded. */
export type OutputKind = 'image' | 'animated' | 'video' | 'other';

/** One file a job produced, with the node that produced it. */
export interface OutputFile {
  readonly node: string;
  readonly filename: string;
  readonly subfolder: string;
  /** `output` for saved files, `temp` for previews (PreviewImage). */
  readonly type: string;
  readonly kind: OutputKind;
  readonly mimeType: string;
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.avif': 'image/avif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.m4v': 'video/x-m4v',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.glb': 'model/gltf-binary',
};

/** The MIME type ComfyUI's `/view` would send for a file name. */
export function mimeTypeOf(filename: string): string {
  return MIME_TYPES[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

function kindOf(mimeType: string, animated: boolean): OutputKind {
  if (mimeType.startsWith('video/')) return 'video';
  if (mimeType === 'image/gif') return 'animated';
  if (mimeType.startsWith('image/')) return animated ? 'animated' : 'image';
  return 'other';
}

/** The files listed in one node's output, in order. */
export function filesOfNodeOutput(node: string, output: NodeOutput): OutputFile[] {
  const animatedFlags = Array.isArray(output['animated']) ? (output['animated'] as unknown[]) : [];
  const files: OutputFile[] = [];
  for (const [key, entries] of Object.entries(output)) {
    if (key === 'animated' || !Array.isArray(entries)) continue;
    entries.forEach((entry, index) => {
      const ref = FileRefSchema.safeParse(entry);
      if (!ref.success) return;
      const { filename, subfolder, type } = ref.data;
      const mimeType = mimeTypeOf(filename);
      // Core flags animation per image or once for all; VHS's `gifs` are animated by definition.
      const animated = animatedFlags[index] === true || animatedFlags[0] === true || key === 'gifs';
      files.push({ node, filename, subfolder, type, mimeType, kind: kindOf(mimeType, animated) });
    });
  }
  return files;
}

/**
 * Collects node outputs from `executed` events and from history, so each node and each file is reported once:
 * history (authoritative) replaces what events said about the same node.
 */
export class OutputCollector {
  private readonly byNode = new Map<string, NodeOutput>();

  /** Records a node's output; returns false when this node was already recorded. */
  add(node: string, output: NodeOutput): boolean {
    const isNew = !this.byNode.has(node);
    this.byNode.set(node, output);
    return isNew;
  }

  /** True when the node's output has been recorded. */
  has(node: string): boolean {
    return this.byNode.has(node);
  }

  /** Every file, nodes in the order they were first recorded, each file once. */
  files(): OutputFile[] {
    const seen = new Set<string>();
    const files: OutputFile[] = [];
    for (const [node, output] of this.byNode) {
      for (const file of filesOfNodeOutput(node, output)) {
        const key = `${file.type}\u0000${file.subfolder}\u0000${file.filename}`;
        if (seen.has(key)) continue;
        seen.add(key);
        files.push(file);
      }
    }
    return files;
  }
}
