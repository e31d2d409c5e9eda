/**
 * Image nodes that work on real pixels: solid images, inversion, resizing, model upscaling and LoadImage.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodePicture, resizeFrame } from '../media/codec.js';
import { imageBatch, isImageBatch, solidFrame, type ImageBatch, type MaskBatch } from '../media/pixels.js';
import { annotatedFileExists, resolveAnnotated } from '../media/save-path.js';
import type { NodeImplementation, NodeEnvironment } from './types.js';
import { expectKind, type UpscaleModelValue } from './values.js';

/** EmptyImage. */
export const emptyImage: NodeImplementation = {
  name: 'EmptyImage',
  run: async (inputs) => {
    const [width, height, color] = [Number(inputs['width']), Number(inputs['height']), Number(inputs['color'])];
    const rgb = [(color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff] as const;
    const frames = Array.from({ length: Number(inputs['batch_size']) }, () => solidFrame(width, height, rgb));
    return { outputs: [imageBatch(width, height, frames)] };
  },
};

/** ImageInvert ("Invert Image"). */
export const imageInvert: NodeImplementation = {
  name: 'ImageInvert',
  run: async (inputs) => {
    const image = expectImage(inputs['image']);
    const frames = image.frames.map((frame) => Buffer.from(frame.map((value) => 255 - value)));
    return { outputs: [imageBatch(image.width, image.height, frames)] };
  },
};

/** ImageScale ("Upscale Image"): width or height 0 keeps the aspect ratio, crop "center" covers then crops. */
export const imageScale: NodeImplementation = {
  name: 'ImageScale',
  run: async (inputs) => {
    const image = expectImage(inputs['image']);
    let [width, height] = [Number(inputs['width']), Number(inputs['height'])];
    if (width === 0 && height === 0) return { outputs: [image] };
    if (width === 0) width = Math.max(1, Math.round((image.width * height) / image.height));
    if (height === 0) height = Math.max(1, Math.round((image.height * width) / image.width));
    const fit = inputs['crop'] === 'center' ? 'cover' : 'fill';
    return { outputs: [await resizeBatch(image, width, height, String(inputs['upscale_method']), fit)] };
  },
};

/** ImageScaleBy ("Upscale Image By"). */
export const imageScaleBy: NodeImplementation = {
  name: 'ImageScaleBy',
  run: async (inputs) => {
    const image = expectImage(inputs['image']);
    const scale = Number(inputs['scale_by']);
    const [width, height] = [Math.round(image.width * scale), Math.round(image.height * scale)];
    return { outputs: [await resizeBatch(image, width, height, String(inputs['upscale_method']), 'fill')] };
  },
};

/** ImageUpscaleWithModel ("Upscale Image (using Model)"): the model's factor, with a sharp lanczos resize. */
export const imageUpscaleWithModel: NodeImplementation = {
  name: 'ImageUpscaleWithModel',
  run: async (inputs) => {
    const model = expectKind<UpscaleModelValue>(inputs['upscale_model'], 'upscale_model', 'upscale_model');
    const image = expectImage(inputs['image']);
    const [width, height] = [image.width * model.scale, image.height * model.scale];
    return { outputs: [await resizeBatch(image, width, height, 'lanczos', 'fill')] };
  },
};

/** ImageBatch ("Batch Images"): image2 is resized to image1's size when they differ, as ComfyUI does. */
export const imageBatchNode: NodeImplementation = {
  name: 'ImageBatch',
  run: async (inputs) => {
    const first = expectImage(inputs['image1']);
    let second = expectImage(inputs['image2']);
    if (second.width !== first.width || second.height !== first.height) {
      second = await resizeBatch(second, first.width, first.height, 'bilinear', 'cover');
    }
    return { outputs: [imageBatch(first.width, first.height, [...first.frames, ...second.frames])] };
  },
};

/** LoadImage ("Load Image"): the combo lists top-level files of input/, subfolders pass VALIDATE_INPUTS. */
export const loadImage: NodeImplementation = {
  name: 'LoadImage',
  validateInputs: {
    inputs: ['image'],
    check: (values, environment) =>
      annotatedFileExists(String(values['image']), folders(environment)) ||
      `Invalid image file: ${String(values['image'])}`,
  },
  isChanged: async (values, environment) => {
    const bytes = await readFile(resolveAnnotated(String(values['image']), folders(environment)));
    return createHash('sha256').update(bytes).digest('hex');
  },
  run: async (inputs, context) => {
    const file = resolveAnnotated(String(inputs['image']), folders(context.environment));
    const picture = await decodePicture(await readFile(file));
    const image = imageBatch(picture.width, picture.height, [picture.rgb]);
    const mask: MaskBatch = picture.alpha
      ? {
          kind: 'mask',
          width: picture.width,
          height: picture.height,
          frames: [Buffer.from(picture.alpha.map((a) => 255 - a))],
        }
      : { kind: 'mask', width: 64, height: 64, frames: [Buffer.alloc(64 * 64)] };
    return { outputs: [image, mask] };
  },
};

function folders(environment: NodeEnvironment): { input: string; output: string; temp: string } {
  return { input: environment.inputDir, output: environment.outputDir, temp: environment.tempDir };
}

async function resizeBatch(
  image: ImageBatch,
  width: number,
  height: number,
  method: string,
  fit: 'fill' | 'cover',
): Promise<ImageBatch> {
  const frames = await Promise.all(
    image.frames.map((frame) => resizeFrame(frame, image, { width, height }, method, fit)),
  );
  return imageBatch(width, height, frames);
}

/** Reads an IMAGE input. */
export function expectImage(value: unknown): ImageBatch {
  if (!isImageBatch(value)) throw new Error('expected an IMAGE');
  return value;
}
