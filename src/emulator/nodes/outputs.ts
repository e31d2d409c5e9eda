/**
 * Output nodes: files in output/ or temp/ named like ComfyUI's, PNG metadata like ComfyUI's, and the WebSocket and
 * text outputs.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeAnimatedWebp, encodePng } from '../media/codec.js';
import { assembleApng, withTextChunks } from '../media/png-chunks.js';
import { imageBatch } from '../media/pixels.js';
import { numberedName, resolveSavePath } from '../media/save-path.js';
import { pyJson, pyStr } from '../server/py-json.js';
import { expectImage } from './image-ops.js';
import type { NodeClass, NodeRunContext } from './types.js';

const HIDDEN = { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' } as const;
const SAVE_DESCRIPTION = 'Saves the input images to your ComfyUI output directory.';
const PREFIX_TOOLTIP =
  'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.';
const TEMP_LETTERS = 'abcdefghijklmnopqrstupvxyz';

interface SavedFile {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: 'output' | 'temp';
}

/** SaveImage ("Save Image"). */
export const saveImage: NodeClass = {
  name: 'SaveImage',
  displayName: 'Save Image',
  description: SAVE_DESCRIPTION,
  category: 'image',
  pythonModule: 'nodes',
  outputNode: true,
  returnTypes: [],
  inputTypes: () => ({
    required: {
      images: ['IMAGE', { tooltip: 'The images to save.' }],
      filename_prefix: ['STRING', { default: 'ComfyUI', tooltip: PREFIX_TOOLTIP }],
    },
    hidden: HIDDEN,
  }),
  run: async (inputs, context) => {
    const images = await savePngs(inputs, context, String(inputs['filename_prefix']), 'output', 4);
    return { outputs: [], ui: { images } };
  },
};

/** PreviewImage ("Preview Image"): temp/ files with a random per-node-object prefix, fast compression. */
export const previewImage: NodeClass = {
  name: 'PreviewImage',
  displayName: 'Preview Image',
  description: SAVE_DESCRIPTION,
  category: 'image',
  pythonModule: 'nodes',
  outputNode: true,
  returnTypes: [],
  inputTypes: () => ({ required: { images: ['IMAGE'] }, hidden: HIDDEN }),
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
function pngText(context: NodeRunContext): Array<[string, string]> {
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

/** SaveAnimatedWEBP: one animated WebP of the whole batch. */
export const saveAnimatedWebp: NodeClass = {
  name: 'SaveAnimatedWEBP',
  displayName: 'SaveAnimatedWEBP',
  description: '',
  category: 'image/animation',
  pythonModule: 'comfy_extras.nodes_images',
  outputNode: true,
  returnTypes: [],
  inputTypes: () => ({
    required: {
      images: ['IMAGE'],
      filename_prefix: ['STRING', { default: 'ComfyUI' }],
      fps: ['FLOAT', { default: 6.0, min: 0.01, max: 1000.0, step: 0.01 }],
      lossless: ['BOOLEAN', { default: true }],
      quality: ['INT', { default: 80, min: 0, max: 100 }],
      method: [['default', 'fastest', 'slowest']],
    },
    hidden: HIDDEN,
  }),
  run: async (inputs, context) => {
    const batch = expectImage(inputs['images']);
    const target = resolveSavePath(
      String(inputs['filename_prefix']),
      context.environment.outputDir,
      batch.width,
      batch.height,
    );
    const file = numberedName(target.filename, target.counter, 'webp');
    const options = {
      fps: Number(inputs['fps']),
      lossless: inputs['lossless'] === true,
      quality: Number(inputs['quality']),
    };
    await writeFile(path.join(target.folder, file), await encodeAnimatedWebp(batch, options));
    const images: SavedFile[] = [{ filename: file, subfolder: target.subfolder, type: 'output' }];
    return { outputs: [], ui: { images, animated: [batch.frames.length !== 1] } };
  },
};

/** SaveAnimatedPNG: one APNG of the whole batch. */
export const saveAnimatedPng: NodeClass = {
  name: 'SaveAnimatedPNG',
  displayName: 'SaveAnimatedPNG',
  description: '',
  category: 'image/animation',
  pythonModule: 'comfy_extras.nodes_images',
  outputNode: true,
  returnTypes: [],
  inputTypes: () => ({
    required: {
      images: ['IMAGE'],
      filename_prefix: ['STRING', { default: 'ComfyUI' }],
      fps: ['FLOAT', { default: 6.0, min: 0.01, max: 1000.0, step: 0.01 }],
      compress_level: ['INT', { default: 4, min: 0, max: 9 }],
    },
    hidden: HIDDEN,
  }),
  run: async (inputs, context) => {
    const batch = expectImage(inputs['images']);
    const target = resolveSavePath(
      String(inputs['filename_prefix']),
      context.environment.outputDir,
      batch.width,
      batch.height,
    );
    const file = numberedName(target.filename, target.counter, 'png');
    const level = Number(inputs['compress_level']);
    const pngs = await Promise.all(batch.frames.map((frame) => encodePng(frame, batch.width, batch.height, level)));
    const apng = withTextChunks(assembleApng(pngs, Math.trunc(1000 / Number(inputs['fps']))), pngText(context));
    await writeFile(path.join(target.folder, file), apng);
    const images: SavedFile[] = [{ filename: file, subfolder: target.subfolder, type: 'output' }];
    return { outputs: [], ui: { images, animated: [true] } };
  },
};

/** SaveImageWebsocket (ComfyUI's bundled example custom node): PNGs as binary frames, nothing on disk. */
export const saveImageWebsocket: NodeClass = {
  name: 'SaveImageWebsocket',
  displayName: 'SaveImageWebsocket',
  description: '',
  category: 'api node/image/save',
  pythonModule: 'custom_nodes.websocket_image_save',
  outputNode: true,
  returnTypes: [],
  inputTypes: () => ({ required: { images: ['IMAGE'] } }),
  // IS_CHANGED returns time.time(): never cached.
  isChanged: async () => `${Date.now()}-${Math.random()}`,
  run: async (inputs, context) => {
    const batch = expectImage(inputs['images']);
    for (const [index, frame] of batch.frames.entries()) {
      const image = imageBatch(batch.width, batch.height, [frame]);
      await context.progress(index, batch.frames.length, { format: 'PNG', image, maxSize: null });
    }
    return { outputs: [] };
  },
};

/** PreviewAny ("Preview Any"): shows any value as text. */
export const previewAny: NodeClass = {
  name: 'PreviewAny',
  displayName: 'Preview Any',
  description: '',
  category: 'utils',
  pythonModule: 'comfy_extras.nodes_preview_any',
  outputNode: true,
  returnTypes: [],
  inputTypes: () => ({ required: { source: ['*', {}] } }),
  run: async (inputs) => ({ outputs: [], ui: { text: [previewText(inputs['source'])] } }),
};

function previewText(source: unknown): string {
  if (source === null || source === undefined) return 'None';
  if (typeof source === 'string' || typeof source === 'number' || typeof source === 'boolean') return pyStr(source);
  if (typeof source === 'object' && 'kind' in source) return `<${String((source as { kind: unknown }).kind)} object>`;
  return pyJson(source);
}
