/**
 * Makes a generation's files fit the interaction's attachment size limit. ComfyUI writes lossless PNGs that can be
 * larger than what a server without boosts accepts; rather than fail, re-encode still images (WebP, then JPEG, then
 * smaller), and say so on the card. Animated images and videos are sent as they are when they fit, and listed as too
 * large otherwise: re-encoding those would need a video toolchain we do not ship.
 *
 * An output is decoded only here, and only up to `MAX_OUTPUT_DECODE_PIXELS`: a file a few kilobytes long can declare
 * dimensions that decode to gigabytes (a decompression bomb, from a buggy or hostile custom node). Its header is read
 * first, without decoding; an image over the limit, or one sharp cannot decode, is left out with a sentence on the card,
 * never retried as if Discord had failed.
 */
import sharp, { type SharpOptions } from 'sharp';
import type { CardFile } from './cards.js';
import { text, type TextKey } from '../i18n/catalog.js';

/**
 * The most pixels (width × height × frames) of an output the bot decodes to re-encode it: 100 megapixels, about 400 MB
 * while decoding (sharp's own default, 268 megapixels, would allow about a gigabyte per image).
 */
export const MAX_OUTPUT_DECODE_PIXELS = 100_000_000;

export interface FittedFiles {
  readonly files: CardFile[];
  /** Sentences for the card, e.g. "Re-encoded as WebP to fit Discord's 8 MiB limit." */
  readonly notes: string[];
}

// Multipart framing and the JSON payload also count towards the request size.
const OVERHEAD_BYTES = 64 * 1024;

const STILL_IMAGE = /^image\/(png|jpeg|webp|bmp|tiff)$/;

/**
 * Fits files under `limitBytes` in total, re-encoding still images of at most `maxPixels` as needed. Never rejects
 * for a file it cannot decode: that file is left out, and a note says so.
 */
export async function fitAttachments(
  files: readonly CardFile[],
  limitBytes: number,
  /** The most pixels decoded (`MAX_OUTPUT_DECODE_PIXELS`), and the member's language for the notes. */
  { maxPixels = MAX_OUTPUT_DECODE_PIXELS, locale }: { maxPixels?: number; locale?: string | null | undefined } = {},
): Promise<FittedFiles> {
  const budget = Math.max(1, limitBytes - OVERHEAD_BYTES);
  if (totalSize(files) <= budget) return { files: [...files], notes: [] };
  const perFile = Math.floor(budget / files.length);
  const fitted: CardFile[] = [];
  const notes = new Set<string>();
  const limit = formatMiB(limitBytes);
  const tooLarge = (file: CardFile) => text(locale, 'note.fileTooLarge', { name: file.name, limit });
  for (const file of files) {
    if (file.data.length <= perFile) {
      fitted.push(file);
      continue;
    }
    const header = STILL_IMAGE.test(file.contentType ?? '') ? await headerOf(file.data) : undefined;
    if (header === undefined || header.pages > 1) {
      notes.add(tooLarge(file));
    } else if (header.width * header.height > maxPixels) {
      const { width, height } = header;
      const megapixels = Math.floor(maxPixels / 1_000_000);
      notes.add(text(locale, 'note.tooManyPixels', { name: file.name, width, height, limit, megapixels }));
    } else {
      const result = await shrinkStill(file, perFile, { limitInputPixels: maxPixels }).catch(() => undefined);
      if (result === undefined) {
        notes.add(tooLarge(file));
        continue;
      }
      fitted.push(result.file);
      notes.add(text(locale, 'note.reencoded', { how: text(locale, result.how), limit }));
    }
  }
  return { files: fitted, notes: [...notes] };
}

/** The image's size and frame count from its header (nothing is decoded); undefined when sharp cannot read it. */
async function headerOf(data: Buffer): Promise<{ width: number; height: number; pages: number } | undefined> {
  try {
    const { width, height, pages = 1 } = await sharp(data, { limitInputPixels: false }).metadata();
    return width && height ? { width, height, pages } : undefined;
  } catch {
    return undefined;
  }
}

async function shrinkStill(
  file: CardFile,
  maxBytes: number,
  decode: SharpOptions,
): Promise<{ file: CardFile; how: TextKey }> {
  const base = file.name.replace(/\.[^.]+$/, '');
  const webp = await sharp(file.data, decode).webp({ quality: 90 }).toBuffer();
  if (webp.length <= maxBytes)
    return { file: { name: `${base}.webp`, data: webp, contentType: 'image/webp' }, how: 'note.asWebp' };
  const jpeg = await sharp(file.data, decode).jpeg({ quality: 88, mozjpeg: true }).toBuffer();
  if (jpeg.length <= maxBytes)
    return { file: { name: `${base}.jpg`, data: jpeg, contentType: 'image/jpeg' }, how: 'note.asJpeg' };
  const { width = 1 } = await sharp(file.data, decode).metadata();
  let scale = 0.75;
  for (;;) {
    const smaller = await sharp(file.data, decode)
      .resize({ width: Math.max(16, Math.round(width * scale)) })
      .jpeg({ quality: 85, mozjpeg: true })
      .toBuffer();
    if (smaller.length <= maxBytes || scale < 0.05) {
      return { file: { name: `${base}.jpg`, data: smaller, contentType: 'image/jpeg' }, how: 'note.asSmallerJpeg' };
    }
    scale *= 0.75;
  }
}

function totalSize(files: readonly CardFile[]): number {
  return files.reduce((sum, file) => sum + file.data.length, 0);
}

function formatMiB(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}
