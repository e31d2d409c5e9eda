/**
 * Images uploaded ahead of a generation (`POST /v1/uploads`), to be used later by id as a generation's input image:
 * checked like every input image (size, pixel count, a format we can read), kept beside the members' images under the
 * data directory, owned by the key that uploaded them, and kept as long as input images are (INPUT_RETENTION_HOURS).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { storeImageBytes, type InputFolder } from '../discord/input-images.js';
import type { InputImage } from '../jobs/model.js';
import type { Collection, Store } from '../store/store.js';
import type { Caller } from './auth.js';
import type { Upload } from './generations.js';
import { ApiProblem } from './problem.js';
import type { UploadView } from './schemas.js';

const uploadRecordSchema = z.object({
  id: z.string().regex(/^upl_[\w-]+$/),
  owner: z.string().min(1),
  path: z.string().min(1),
  filename: z.string().min(1),
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().min(0),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  createdAt: z.number(),
});
type UploadRecord = z.infer<typeof uploadRecordSchema>;

export interface WebUploadsOptions {
  readonly store: Store;
  /**
   * Where input images wait (the engine's, with its room check, shared in a fleet); uploads are input images. `has`
   * says whether one is still kept, here or (in a fleet) by the store for any process.
   */
  readonly inputs: InputFolder & { has(image: InputImage): Promise<boolean> };
  /** How long an upload is kept: the input images' retention. */
  readonly retentionMs: number;
  /** The largest image (MAX_ATTACHMENT_MB). */
  readonly maxBytes: number;
  /** The most pixels an image may have (MAX_IMAGE_MEGAPIXELS). */
  readonly maxPixels: number;
  /** WEB_PUBLIC_URL: the URLs in answers start with it (relative when unset). */
  readonly publicUrl?: string | undefined;
}

const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
  heif: 'image/heif',
};

/** The web callers' uploaded images. */
export class WebUploads {
  readonly #records: Collection<UploadRecord>;
  readonly #options: WebUploadsOptions;

  constructor(options: WebUploadsOptions) {
    this.#options = options;
    this.#records = options.store.collection('web-uploads', uploadRecordSchema, { version: 1 });
  }

  /** Checks and keeps an uploaded image for `caller`. */
  async create(caller: Caller, file: Upload): Promise<UploadView> {
    const { maxBytes, maxPixels, inputs, retentionMs } = this.#options;
    if (file.bytes.length > maxBytes) {
      const limit = `${Math.round(maxBytes / 1024 / 1024)} MiB`;
      throw new ApiProblem(413, 'upload-too-large', `${file.name} is larger than ${limit}; upload a smaller image.`);
    }
    const stored = await storeImageBytes(
      file.bytes,
      { name: file.name, url: `upload:${file.name}` },
      inputs,
      maxPixels,
    );
    const extension = stored.filename.slice(stored.filename.lastIndexOf('.') + 1);
    const record: UploadRecord = {
      id: `upl_${randomBytes(12).toString('base64url')}`,
      owner: caller.memberId,
      path: stored.path,
      filename: stored.filename,
      name: file.name,
      contentType: EXTENSION_TYPES[extension] ?? 'application/octet-stream',
      size: file.bytes.length,
      width: stored.width,
      height: stored.height,
      createdAt: Date.now(),
    };
    await this.#records.set(record.id, record, retentionMs);
    return this.#viewOf(record);
  }

  /** One of the caller's uploads, described. */
  async view(caller: Caller, id: string): Promise<UploadView> {
    const record = await this.#own(caller, id);
    if (record === undefined) throw new ApiProblem(404, 'upload-unknown', unknownSentence(id, this.#hours()));
    return this.#viewOf(record);
  }

  /** The input image of one of the caller's uploads, for a generation; a 422 when it is unknown or gone. */
  async inputImage(caller: Caller, id: string): Promise<InputImage> {
    const record = await this.#own(caller, id);
    if (record === undefined) throw new ApiProblem(422, 'upload-unknown', unknownSentence(id, this.#hours()));
    // Input images past their cap go oldest first, even before their time is up (src/jobs/input-files.ts).
    const image = { path: record.path, filename: record.filename };
    if (!(await this.#options.inputs.has(image))) {
      throw new ApiProblem(422, 'upload-expired', `The upload ${id} is no longer kept; upload the image again.`);
    }
    return image;
  }

  async #own(caller: Caller, id: string): Promise<UploadRecord | undefined> {
    const record = /^upl_[\w-]{1,40}$/.test(id) ? await this.#records.get(id) : undefined;
    return record?.owner === caller.memberId ? record : undefined;
  }

  #viewOf(record: UploadRecord): UploadView {
    return {
      id: record.id,
      url: `${this.#options.publicUrl ?? ''}/v1/uploads/${record.id}`,
      filename: record.name,
      content_type: record.contentType,
      size: record.size,
      width: record.width,
      height: record.height,
      created_at: new Date(record.createdAt).toISOString(),
      expires_at: new Date(record.createdAt + this.#options.retentionMs).toISOString(),
    };
  }

  #hours(): number {
    return Math.round(this.#options.retentionMs / 3_600_000);
  }
}

function unknownSentence(id: string, hours: number): string {
  return `There is no upload ${id.slice(0, 64)} among yours; uploads are kept ${hours} hours, then upload again.`;
}
