/**
 * Images members give us (an `/imagine` attachment, an image in a reply that refines a result). They are downloaded
 * once, checked to be an image we can read, and kept under the data directory by content hash, so a job that waits in
 * the queue or survives a restart can still upload its input to whichever ComfyUI server runs it. In a fleet they are
 * also shared through the store (jobs/input-files.ts), for the process, on whichever host, that carries the job.
 */
import { createHash } from 'node:crypto';
import { mkdir, stat, utimes } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { fetch } from 'undici';
import { isDiskFull, writeFileDurably } from '../durable-write.js';
import { UserFacingError } from '../errors.js';
import { sentence } from '../i18n/catalog.js';

/** Where members' images are kept, and the check that there is room for one more (jobs/input-files.ts). */
export interface InputFolder {
  readonly dir: string;
  /** Throws a `UserFacingError` when the folder has no room for `bytes` more. */
  reserve(bytes: number): Promise<void>;
  /** Shares the image named `name` with the other processes of a fleet; a `UserFacingError` when it cannot be. */
  share?(name: string, bytes: Buffer): Promise<void>;
}

/** What a member reads when the disk under the data directory is full. */
export const DISK_FULL_SENTENCE = 'I have no room to keep your image right now; please try again later.';

/** An attachment as Discord describes it, before we download it. */
export interface AttachmentInfo {
  readonly url: string;
  readonly name: string;
  readonly size: number;
  readonly contentType: string | null;
}

/** A checked image on disk, ready to upload to a ComfyUI server. */
export interface StoredInputImage {
  readonly path: string;
  readonly filename: string;
  readonly width: number;
  readonly height: number;
}

const READABLE_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif', 'heif']);

/**
 * Width × height (× frames) above which a member's image is refused when `storeInputImage` is given no limit: a 20 MB
 * PNG can declare dimensions that decode to gigabytes, here or on the ComfyUI server that loads it.
 */
export const DEFAULT_MAX_INPUT_PIXELS = 50_000_000;

/** Rejects, without downloading, an attachment that is clearly not an image or too large. */
export function checkAttachment(attachment: AttachmentInfo, maxBytes: number): void {
  if (attachment.contentType !== null && !attachment.contentType.startsWith('image/')) {
    throw notAnImage(attachment, `content type ${attachment.contentType}`);
  }
  if (attachment.size > maxBytes) throw tooLarge(attachment, maxBytes);
}

/** Downloads an attachment, checks that it is an image of at most `maxPixels`, and stores it in `folder`. */
export async function storeInputImage(
  attachment: AttachmentInfo,
  folder: InputFolder,
  maxBytes: number,
  maxPixels: number = DEFAULT_MAX_INPUT_PIXELS,
): Promise<StoredInputImage> {
  checkAttachment(attachment, maxBytes);
  const bytes = await download(attachment, maxBytes);
  return storeImageBytes(bytes, attachment, folder, maxPixels);
}

/**
 * Checks that `bytes` are an image we can read and stores them in `folder` (the web face's uploads come this way).
 * The file is written whole or not at all; a full folder or disk is refused with a sentence.
 */
export async function storeImageBytes(
  bytes: Buffer,
  attachment: Pick<AttachmentInfo, 'name' | 'url'>,
  folder: InputFolder,
  maxPixels: number = DEFAULT_MAX_INPUT_PIXELS,
): Promise<StoredInputImage> {
  const metadata = await readHeader(bytes, attachment, maxPixels);
  if (!metadata.format || !READABLE_FORMATS.has(metadata.format) || !metadata.width || !metadata.height) {
    throw notAnImage(attachment, `format ${metadata.format ?? 'unknown'}`);
  }
  const pixels = metadata.width * metadata.height * (metadata.pages ?? 1);
  if (pixels > maxPixels) throw tooManyPixels(attachment, metadata, maxPixels);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  const extension = metadata.format === 'jpeg' ? 'jpg' : metadata.format;
  const path = join(folder.dir, `${hash}.${extension}`);
  // Shared first: an image the fleet cannot take is refused before anything of it is kept.
  await folder.share?.(basename(path), bytes);
  // The same picture again (a Reroll of an image-to-image result): already kept, and whole, since it was renamed in.
  const known = await stat(path).catch(() => undefined);
  if (known?.size === bytes.length) {
    // Touched, so the sweep's grace for new images covers it until its new job is recorded.
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
  } else {
    await folder.reserve(bytes.length);
    await writeInput(path, bytes, folder.dir, attachment);
  }
  return {
    path,
    filename: `comfycord_${hash.slice(0, 16)}.${extension}`,
    width: metadata.width,
    height: metadata.height,
  };
}

/**
 * The image's header: format, size and frame count. `metadata()` never decodes pixels, and sharp's own pixel limit
 * refuses an oversized header outright; the size is then read again without the limit, for the member's sentence.
 */
async function readHeader(
  bytes: Buffer,
  attachment: Pick<AttachmentInfo, 'name' | 'url'>,
  maxPixels: number,
): Promise<Metadata> {
  try {
    return await sharp(bytes, { limitInputPixels: maxPixels }).metadata();
  } catch (error) {
    if (!String(error).includes('pixel limit')) {
      throw notAnImage(attachment, `sharp could not read it: ${String(error)}`);
    }
  }
  const header = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => {
      throw notAnImage(attachment, `sharp could not read it: ${String(error)}`);
    });
  throw tooManyPixels(
    attachment,
    { width: header.width ?? 0, height: header.height ?? 0, pages: header.pages },
    maxPixels,
  );
}

async function writeInput(
  path: string,
  bytes: Buffer,
  dir: string,
  attachment: Pick<AttachmentInfo, 'name' | 'url'>,
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await writeFileDurably(path, bytes);
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    throw new UserFacingError('inputs-disk-full', DISK_FULL_SENTENCE, {
      cause: error,
      detail: `no space left to keep ${attachment.url} (${bytes.length} bytes) under ${dir}`,
    });
  }
}

async function download(attachment: AttachmentInfo, maxBytes: number): Promise<Buffer> {
  const failed = (detail: string, cause?: unknown) =>
    new UserFacingError('attachment-download-failed', 'I could not download that attachment; please try again.', {
      cause,
      detail: `download of ${attachment.url} failed: ${detail}`,
    });
  let response;
  try {
    response = await fetch(attachment.url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw failed(String(error), error);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw failed(`HTTP ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    // The size Discord told us can be wrong; never hold more than the limit in memory.
    if (size > maxBytes) throw tooLarge(attachment, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function notAnImage(attachment: Pick<AttachmentInfo, 'name' | 'url'>, detail: string): UserFacingError {
  return new UserFacingError(
    'attachment-not-image',
    `${attachment.name} is not an image I can read; attach a PNG, JPEG or WebP picture.`,
    { detail: `attachment ${attachment.url} refused: ${detail}`, params: { name: attachment.name } },
  );
}

function tooManyPixels(
  attachment: Pick<AttachmentInfo, 'name' | 'url'>,
  size: { width: number; height: number; pages?: number | undefined },
  maxPixels: number,
): UserFacingError {
  const frames = size.pages !== undefined && size.pages > 1 ? size.pages : undefined;
  const params = {
    name: attachment.name,
    width: size.width,
    height: size.height,
    megapixels: Math.floor(maxPixels / 1_000_000),
  };
  const said =
    frames === undefined
      ? sentence('image.tooManyPixels', params)
      : sentence('image.tooManyPixelsFrames', { ...params, frames });
  return new UserFacingError('attachment-too-many-pixels', said, {
    detail: `attachment ${attachment.url} declares ${size.width}x${size.height}${frames === undefined ? '' : ` in ${frames} frames`}, over ${maxPixels} pixels`,
  });
}

function tooLarge(attachment: AttachmentInfo, maxBytes: number): UserFacingError {
  const limit = `${Math.round(maxBytes / 1024 / 1024)} MiB`;
  return new UserFacingError(
    'attachment-too-large',
    `${attachment.name} is larger than ${limit}; attach a smaller image.`,
    { detail: `attachment ${attachment.url} is over ${maxBytes} bytes`, params: { name: attachment.name, limit } },
  );
}
