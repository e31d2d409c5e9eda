/**
 * VideoHelperSuite's Video Combine (`VHS_VideoCombine`), the custom node most video workflows end in. Its node info is
 * the one the pack's source defines (videohelpersuite/nodes.py, VideoCombine.INPUT_TYPES), written as ComfyUI's
 * node_info() writes it, with the formats a stock install lists that the emulator knows. It behaves as the pack does on
 * a server without ffmpeg: GIF and WebP are written (the pack uses Pillow for those), `video/*` formats fail with the
 * pack's own error. Like the pack, it first saves the first frame as a PNG carrying the workflow, and reports its file
 * under `gifs`, with `format`, `frame_rate`, that PNG's name (`workflow`) and the file's absolute path (`fullpath`).
 */
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { encodeAnimatedWebp, encodePng } from '../media/codec.js';
import { withTextChunks } from '../media/png-chunks.js';
import type { ImageBatch } from '../media/pixels.js';
import { resolveSavePath } from '../media/save-path.js';
import { expectImage } from './image-ops.js';
import { pngText } from './save-images.js';
import { NodeExecutionError, type NodeImplementation } from './types.js';

/** VHS_VideoCombine ("Video Combine 🎥🅥🅗🅢"). */
export const videoCombine: NodeImplementation = {
  name: 'VHS_VideoCombine',
  info: new URL('./custom-info/VHS_VideoCombine.json', import.meta.url),
  run: async (inputs, context) => {
    const batch = expectImage(inputs['images']);
    const format = String(inputs['format']);
    const frameRate = Number(inputs['frame_rate']);
    const saveOutput = inputs['save_output'] !== false;
    const { environment } = context;
    const target = resolveSavePath(
      String(inputs['filename_prefix']),
      saveOutput ? environment.outputDir : environment.tempDir,
      batch.width,
      batch.height,
    );
    const counter = String(nextCounter(target.folder, target.filename)).padStart(5, '0');
    const firstFrame = `${target.filename}_${counter}.png`;
    const png = await encodePng(batch.frames[0]!, batch.width, batch.height, 4);
    await writeFile(path.join(target.folder, firstFrame), withTextChunks(png, pngText(context)));
    const [kind, extension = ''] = format.split('/');
    if (kind !== 'image') {
      throw new NodeExecutionError(
        'ffmpeg is required for video outputs and could not be found.\nIn order to use video outputs, you must either:\n' +
          `- Install imageio-ffmpeg with pip,\n- Place a ffmpeg executable in ${process.cwd()}, or\n` +
          '- Install ffmpeg and add it to the system path.',
        'ProcessLookupError',
      );
    }
    const frames = inputs['pingpong'] === true ? pingpong(batch) : batch;
    const file = `${target.filename}_${counter}.${extension}`;
    const fullpath = path.join(target.folder, file);
    const options = { frameRate, loops: Number(inputs['loop_count']), lossless: inputs['lossless'] !== false };
    await writeFile(fullpath, await encodeAnimation(frames, extension, options));
    const preview = {
      filename: file,
      subfolder: target.subfolder,
      type: saveOutput ? 'output' : 'temp',
      format,
      frame_rate: frameRate,
      workflow: firstFrame,
      fullpath,
    };
    return { outputs: [[saveOutput, [path.join(target.folder, firstFrame), fullpath]]], ui: { gifs: [preview] } };
  },
};

// The pack counts its own files: `<name>_<counter>` followed by anything, highest counter + 1.
function nextCounter(folder: string, filename: string): number {
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const matcher = new RegExp(`^${escaped}_(\\d+)\\D*\\..+$`, 'i');
  let highest = 0;
  for (const entry of readdirSync(folder)) {
    const match = matcher.exec(entry);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return highest + 1;
}

function pingpong(batch: ImageBatch): ImageBatch {
  const back = batch.frames.slice(1, -1).reverse();
  return { ...batch, frames: [...batch.frames, ...back] };
}

async function encodeAnimation(
  batch: ImageBatch,
  extension: string,
  options: { frameRate: number; loops: number; lossless: boolean },
): Promise<Buffer> {
  if (extension === 'webp') {
    return encodeAnimatedWebp(batch, { fps: options.frameRate, lossless: options.lossless, quality: 80 });
  }
  const delay = Math.round(1000 / options.frameRate);
  return sharp(Buffer.concat(batch.frames), {
    raw: { width: batch.width, height: batch.height * batch.frames.length, channels: 3, pageHeight: batch.height },
  })
    .gif({ loop: options.loops, delay: batch.frames.map(() => delay) })
    .toBuffer();
}
