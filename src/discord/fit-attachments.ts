/**
 * Makes a generation's files fit the interaction's attachment size limit. ComfyUI writes lossless PNGs that can be
 * larger than what a server without boosts accepts; rather than fail, re-encode still images (WebP, then JPEG, then
 * smaller), and say so on the card. Animated images and videos are sent as they are when they fit, and listed as too
 * large otherwise: re-encoding those would need a video toolchain we do not ship.
 */
import sharp from 'sharp';
import type { CardFile } from './cards.js';

export interface FittedFiles {
  readonly files: CardFile[];
  /** Sentences for the card, e.g. "Re-encoded as WebP to fit Discord's 8 MiB limit." */
  readonly notes: string[];
}

// Multipart framing and the JSON payload also count towards the request size.
const OVERHEAD_BYTES = 64 * 1024;

const STILL_IMAGE = /^image\/(png|jpeg|webp|bmp|tiff)$/;

/** Fits files under `limitBytes` in total, re-encoding still images as needed. */
export async function fitAttachments(files: readonly CardFile[], limitBytes: number): Promise<FittedFiles> {
  const budget = Math.max(1, limitBytes - OVERHEAD_BYTES);
  if (totalSize(files) <= budget) return { files: [...files], notes: [] };
  const perFile = Math.floor(budget / files.length);
  const fitted: CardFile[] = [];
  const notes = new Set<string>();
  for (const file of files) {
    if (file.data.length <= perFile) {
      fitted.push(file);
    } else if (STILL_IMAGE.test(file.contentType ?? '') && !(await isAnimated(file.data))) {
      const result = await shrinkStill(file, perFile);
      fitted.push(result.file);
      notes.add(`Re-encoded ${result.how} to fit Discord's ${formatMiB(limitBytes)} upload limit.`);
    } else {
      notes.add(`${file.name} is larger than Discord's ${formatMiB(limitBytes)} upload limit and was left out.`);
    }
  }
  return { files: fitted, notes: [...notes] };
}

async function shrinkStill(file: CardFile, maxBytes: number): Promise<{ file: CardFile; how: string }> {
  const base = file.name.replace(/\.[^.]+$/, '');
  const webp = await sharp(file.data).webp({ quality: 90 }).toBuffer();
  if (webp.length <= maxBytes)
    return { file: { name: `${base}.webp`, data: webp, contentType: 'image/webp' }, how: 'as WebP' };
  const jpeg = await sharp(file.data).jpeg({ quality: 88, mozjpeg: true }).toBuffer();
  if (jpeg.length <= maxBytes)
    return { file: { name: `${base}.jpg`, data: jpeg, contentType: 'image/jpeg' }, how: 'as JPEG' };
  const { width = 1 } = await sharp(file.data).metadata();
  let scale = 0.75;
  for (;;) {
    const smaller = await sharp(file.data)
      .resize({ width: Math.max(16, Math.round(width * scale)) })
      .jpeg({ quality: 85, mozjpeg: true })
      .toBuffer();
    if (smaller.length <= maxBytes || scale < 0.05) {
      return { file: { name: `${base}.jpg`, data: smaller, contentType: 'image/jpeg' }, how: 'as a smaller JPEG' };
    }
    scale *= 0.75;
  }
}

async function isAnimated(data: Buffer): Promise<boolean> {
  const { pages = 1 } = await sharp(data).metadata();
  return pages > 1;
}

function totalSize(files: readonly CardFile[]): number {
  return files.reduce((sum, file) => sum + file.data.length, 0);
}

function formatMiB(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}
