/**
 * One attempt of a job on one server, from dispatch to its outcome. The runner keeps at most one live attempt per
 * job; an attempt it gives up on (server down, bot stopping) is marked abandoned, and whatever its handle reports
 * afterwards is ignored.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ComfyJob, ComfyServer } from '../comfy/index.js';
import { UserFacingError } from '../errors.js';
import { INPUT_MISSING_SENTENCE } from './input-files.js';
import type { InputImage } from './model.js';

/** Where input images go on the server, so the operator can tell them apart and clean them up. */
export const INPUT_SUBFOLDER = 'comfycord';

/** The live state of one attempt. */
export class Attempt {
  /** The handle of the prompt, once submitted (or followed). */
  comfyJob: ComfyJob | undefined;
  cancelRequested = false;
  abandoned = false;
  /** When the server began executing it, in this process (for `elapsedMs`). */
  startedAt: number | undefined;
  /** Fires if a cancelled prompt does not end in time. */
  cancelTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly server: string,
    /** True when the server had already begun executing it (a job followed after a restart). */
    public started: boolean,
  ) {}

  /** Gives up on the attempt: nothing it reports from now on is acted upon. */
  abandon(): void {
    this.abandoned = true;
    clearTimeout(this.cancelTimer);
  }
}

/**
 * Uploads the member's image to the server; resolves with the name LoadImage takes there. `read` finds its bytes (in a
 * fleet, possibly on another process's shelf: jobs/input-files.ts); by default the file the job names.
 */
export async function uploadInputImage(
  server: ComfyServer,
  image: InputImage,
  read: (image: InputImage) => Promise<Buffer> = readRecordedFile,
): Promise<string> {
  const bytes = await read(image);
  // The stored file is named by its content hash, so re-uploading the same image reuses the server's copy.
  const uploaded = await server.upload(bytes, basename(image.path), { subfolder: INPUT_SUBFOLDER });
  return uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
}

async function readRecordedFile(image: InputImage): Promise<Buffer> {
  try {
    return await readFile(image.path);
  } catch (error) {
    throw new UserFacingError('input-image-missing', INPUT_MISSING_SENTENCE, {
      cause: error,
      detail: `cannot read input image ${image.path}: ${String(error)}`,
    });
  }
}
