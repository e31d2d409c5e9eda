/**
 * `--image <path>`: the local file is read and checked to be an image before any server is contacted, then uploaded
 * to the chosen server, where LoadImage takes it by the name the server gives it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ComfyServer } from '../../comfy/index.js';
import { UserFacingError } from '../../errors.js';
import { INPUT_SUBFOLDER } from '../../jobs/attempt.js';

/** An input image read from disk. */
export interface LocalImage {
  readonly path: string;
  readonly filename: string;
  readonly bytes: Buffer;
}

/** Reads the file and makes sure it is an image; throws a sentence naming the file otherwise. */
export async function readInputImage(file: string): Promise<LocalImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : String(error);
    throw new UserFacingError('cli-image-unreadable', `Cannot read the image ${file}: ${reason}.`, { cause: error });
  }
  try {
    const { format } = await sharp(bytes).metadata();
    if (format === undefined) throw new Error('unknown format');
  } catch (error) {
    throw new UserFacingError('cli-not-an-image', `${file} is not an image (PNG, JPEG, WebP, …).`, { cause: error });
  }
  return { path: file, filename: path.basename(file), bytes };
}

/** Uploads the image beside the bot's own inputs; resolves with the name LoadImage takes. */
export async function uploadInputImage(server: ComfyServer, image: LocalImage): Promise<string> {
  const uploaded = await server.upload(image.bytes, image.filename, { subfolder: INPUT_SUBFOLDER });
  return uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
}
