/**
 * SaveImage and PreviewImage: PNG files in output/ or temp/ named like ComfyUI's, with ComfyUI's PNG metadata.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../media/codec.js';
import { withTextChunks } from '../media/png-chunks.js';
import { numberedName, resolveSavePath } from '../media/save-path.js';
import { pyJson } from '../server/py-json.js';
import { expectImage } from './image-ops.js';
import type { NodeImplementation, NodeRunContext } from './types.js';

const TEMP_LETTERS = 'abcdefghijklmnopqrstupvxyz';

/** A saved file as reported in `executed` and history. */
export interface SavedFile {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: 'output' | 'temp';
}

/** SaveImage ("Save Image"). */
export const saveImage: NodeImplementation = {
  name: 'SaveImage',
  run: async (inputs, context) => {
    const images = await savePngs(inputs, context, String(inputs['filename_prefix']), 'output', 4);
    return { outputs: [], ui: { images } };
  },
};

/** PreviewImage ("Preview Image"): temp/ files with a random per-node-object prefix, fast compression. */
export const previewImage: NodeImplementation = {
  name: 'PreviewImage',
  run: async (inputs, context) => {
    const prefix = `ComfyUI${tempSuffix(context)}`;
    const images = await savePngs(inputs, context, prefix, 'temp', 1);
    return { outputs: [], ui: { images } };
  },
};

async function savePngs(
  inputs: Readonly<Record<string, unknown>>,
  context: NodeRunContext,
  prefix: string,
  type: 'output' | 'temp',
  compressionLevel: number,
): Promise<SavedFile[]> {
  const batch = expectImage(inputs['images']);
  const folder = type === 'output' ? context.environment.outputDir : context.environment.tempDir;
  const target = resolveSavePath(prefix, folder, batch.width, batch.height);
  const text = pngText(context);
  const results: SavedFile[] = [];
  for (const [index, frame] of batch.frames.entries()) {
    const file = numberedName(target.filename, target.counter + index, 'png', index);
    const png = withTextChunks(await encodePng(frame, batch.width, batch.height, compressionLevel), text);
    await writeFile(path.join(target.folder, file), png);
    results.push({ filename: file, subfolder: target.subfolder, type });
  }
  return results;
}

/** ComfyUI's PNG metadata: the prompt and each extra_pnginfo entry as JSON text chunks. */
export function pngText(context: NodeRunContext): Array<[string, string]> {
  const entries: Array<[string, string]> = [['prompt', pyJson(context.prompt)]];
  const extra = context.extraPngInfo;
  if (typeof extra === 'object' && extra !== null) {
    for (const [key, value] of Object.entries(extra)) entries.push([key, pyJson(value)]);
  }
  return entries;
}

function tempSuffix(context: NodeRunContext): string {
  const known = context.objectState.get('prefix_append');
  if (typeof known === 'string') return known;
  const letters = Array.from({ length: 5 }, () => TEMP_LETTERS[Math.floor(Math.random() * TEMP_LETTERS.length)]);
  const suffix = `_temp_${letters.join('')}`;
  context.objectState.set('prefix_append', suffix);
  return suffix;
}
