/**
 * Encoding and decoding through sharp: PNG/WebP/JPEG out, any image file in, resizing with ComfyUI's upscale methods.
 */
import sharp from 'sharp';
import type { ImageBatch } from './pixels.js';

type Kernel = 'nearest' | 'linear' | 'mitchell' | 'cubic' | 'lanczos3';

/** ComfyUI's upscale_method combo options, mapped onto sharp kernels. */
const KERNELS: Record<string, Kernel> = {
  'nearest-exact': 'nearest',
  bilinear: 'linear',
  area: 'mitchell',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
};

/** Encodes one RGB frame as PNG (`compressionLevel` as Pillow's compress_level). */
export async function encodePng(frame: Buffer, width: number, height: number, compressionLevel = 4): Promise<Buffer> {
  return sharp(frame, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel })
    .toBuffer();
}

/** Encodes frames as one animated WebP. */
export async function encodeAnimatedWebp(
  batch: ImageBatch,
  options: { fps: number; lossless: boolean; quality: number },
): Promise<Buffer> {
  const delay = Math.round(1000 / options.fps);
  return sharp(Buffer.concat(batch.frames), {
    raw: { width: batch.width, height: batch.height * batch.frames.length, channels: 3, pageHeight: batch.height },
  })
    .webp({ lossless: options.lossless, quality: options.quality, loop: 0, delay: batch.frames.map(() => delay) })
    .toBuffer();
}

/** Encodes a preview as ComfyUI does (fit into `maxSize` square, JPEG quality 95 or PNG). */
export async function encodePreview(
  frame: Buffer,
  width: number,
  height: number,
  format: 'JPEG' | 'PNG',
  maxSize: number | null,
): Promise<Buffer> {
  let pipeline = sharp(frame, { raw: { width, height, channels: 3 } });
  if (maxSize !== null) pipeline = pipeline.resize(maxSize, maxSize, { fit: 'inside', kernel: 'linear' });
  return format === 'JPEG'
    ? pipeline.jpeg({ quality: 95 }).toBuffer()
    : pipeline.png({ compressionLevel: 1 }).toBuffer();
}

/** Resizes one RGB frame. */
export async function resizeFrame(
  frame: Buffer,
  from: { width: number; height: number },
  to: { width: number; height: number },
  method: string,
  fit: 'fill' | 'cover' = 'fill',
): Promise<Buffer> {
  return sharp(frame, { raw: { width: from.width, height: from.height, channels: 3 } })
    .resize(to.width, to.height, { fit, kernel: KERNELS[method] ?? 'lanczos3', position: 'centre' })
    .raw()
    .toBuffer();
}

/** A decoded picture file: RGB pixels and, when it had one, its alpha channel. */
export interface DecodedPicture {
  readonly width: number;
  readonly height: number;
  readonly rgb: Buffer;
  readonly alpha: Buffer | null;
}

/** Decodes the first frame of an image file. */
export async function decodePicture(bytes: Buffer): Promise<DecodedPicture> {
  const image = sharp(bytes).rotate();
  const meta = await image.metadata();
  const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels = info.width * info.height;
  const rgb = Buffer.alloc(pixels * 3);
  const alpha = Buffer.alloc(pixels);
  for (let index = 0; index < pixels; index += 1) {
    data.copy(rgb, index * 3, index * 4, index * 4 + 3);
    alpha[index] = data[index * 4 + 3] ?? 255;
  }
  return { width: info.width, height: info.height, rgb, alpha: meta.hasAlpha ? alpha : null };
}
