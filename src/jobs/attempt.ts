/**
 * One attempt of a job on one server, from dispatch to its outcome. The runner keeps at most one live attempt per
 * job; an attempt it gives up on (server down, bot stopping) is marked abandoned, and whatever its handle reports
 * afterwards is ignored.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ComfyJob, ComfyServer } from '../comfy/index.js';
import { UserFacingError } from '../errors.js';
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

/** Uploads the member's image to the server; resolves with the name LoadImage takes there. */
export async function uploadInputImage(server: ComfyServer, image: InputImage): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(image.path);
  } catch (error) {
    throw new UserFacingError(
      'input-image-missing',
      'The image you gave is no longer available; please attach it again.',
      { cause: error, detail: `cannot read input image ${image.path}: ${String(error)}` },
    );
  }
  // The stored file is named by its content hash, so re-uploading the same image reuses the server's copy.
  const uploaded = await server.upload(bytes, basename(image.path), { subfolder: INPUT_SUBFOLDER });
  return uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
}
