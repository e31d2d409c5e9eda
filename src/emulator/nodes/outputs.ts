/**
 * The other output nodes: animated WebP and PNG, images over the WebSocket, and text previews.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeAnimatedWebp, encodePng } from '../media/codec.js';
import { assembleApng, withTextChunks } from '../media/png-chunks.js';
import { imageBatch, type ImageBatch } from '../media/pixels.js';
import { numberedName, resolveSavePath } from '../media/save-path.js';
import { pyJson, pyStr } from '../server/py-json.js';
import { expectImage } from './image-ops.js';
import { pngText, type SavedFile } from './save-images.js';
import type { NodeImplementation, NodeResult, NodeRunContext } from './types.js';

/** SaveAnimatedWEBP: one animated WebP of the whole batch. */
export const saveAnimatedWebp: NodeImplementation = {
  name: 'SaveAnimatedWEBP',
  run: async (inputs, context) => {
    const options = {
      fps: Number(inputs['fps']),
      lossless: inputs['lossless'] === true,
      quality: Number(inputs['quality']),
    };
    return saveWholeBatch(inputs, context, 'webp', (batch) => encodeAnimatedWebp(batch, options));
  },
};

/** SaveAnimatedPNG: one APNG of the whole batch. */
export const saveAnimatedPng: NodeImplementation = {
  name: 'SaveAnimatedPNG',
  run: async (inputs, context) => {
    const level = Number(inputs['compress_level']);
    const delayMs = Math.trunc(1000 / Number(inputs['fps']));
    return saveWholeBatch(inputs, context, 'png', async (batch) => {
      const pngs = await Promise.all(batch.frames.map((frame) => encodePng(frame, batch.width, batch.height, level)));
      return withTextChunks(assembleApng(pngs, delayMs), pngText(context));
    });
  },
};

/**
 * What both animated savers do around their encoder: one numbered file of the whole batch in the output folder,
 * reported in `ui.images`, with `ui.animated` saying whether it moves (a WebP of one frame does not; an APNG always
 * counts as animated, as in ComfyUI).
 */
async function saveWholeBatch(
  inputs: Readonly<Record<string, unknown>>,
  context: NodeRunContext,
  extension: 'webp' | 'png',
  encode: (batch: ImageBatch) => Promise<Buffer>,
): Promise<NodeResult> {
  const batch = expectImage(inputs['images']);
  const target = resolveSavePath(
    String(inputs['filename_prefix']),
    context.environment.outputDir,
    batch.width,
    batch.height,
  );
  const file = numberedName(target.filename, target.counter, extension);
  await writeFile(path.join(target.folder, file), await encode(batch));
  const images: SavedFile[] = [{ filename: file, subfolder: target.subfolder, type: 'output' }];
  return { outputs: [], ui: { images, animated: [extension === 'png' || batch.frames.length !== 1] } };
}

/** SaveImageWebsocket (ComfyUI's bundled example custom node): PNGs as binary frames, nothing on disk. */
export const saveImageWebsocket: NodeImplementation = {
  name: 'SaveImageWebsocket',
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
export const previewAny: NodeImplementation = {
  name: 'PreviewAny',
  run: async (inputs) => ({ outputs: [], ui: { text: [previewText(inputs['source'])] } }),
};

function previewText(source: unknown): string {
  if (source === null || source === undefined) return 'None';
  if (typeof source === 'string' || typeof source === 'number' || typeof source === 'boolean') return pyStr(source);
  if (typeof source === 'object' && 'kind' in source) return `<${String((source as { kind: unknown }).kind)} object>`;
  return pyJson(source);
}
