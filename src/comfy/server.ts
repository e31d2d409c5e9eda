/**
 * The seam between one ComfyUI server and what uses it (the pool, the job runner, workflow validation). A pool of
 * several servers can implement or wrap this same interface.
 */
import type { DownloadStream, UploadOptions } from './http.js';
import type { ComfyJob } from './job.js';
import type { ComfyGraph, FileRef, ObjectInfo, QueueSnapshot, SystemStats, UploadedFile } from './schemas.js';

/** Options of a submission. */
export interface SubmitOptions {
  /**
   * Our own prompt id, a canonical lowercase UUID (generated when absent; any other shape is refused before posting,
   * as current ComfyUI would refuse it); record it before submitting to survive a restart.
   */
  readonly promptId?: string;
  /** Put the prompt at the front of the queue. */
  readonly front?: boolean;
  /**
   * The output node ids the caller needs (e.g. its SaveImage). When the server accepts the prompt but drops every one
   * of them at validation, `submit` fails with `ComfyValidationError` instead of running the rest.
   */
  readonly outputs?: readonly string[];
  /** Sent as `extra_data` (e.g. `extra_pnginfo`, written into the PNG's metadata). */
  readonly extraData?: Record<string, unknown>;
}

/** A downloaded file. */
export interface Download {
  readonly bytes: Buffer;
  readonly mimeType: string;
}

/** One ComfyUI server, as the job runner and the pool use it. */
export interface ComfyServer {
  /** The configured name, for logs and reports (never shown with the address to members). */
  readonly name: string;
  /** True while the event socket is connected. */
  readonly connected: boolean;
  /** How many prompts this client is following. */
  readonly inFlight: number;
  /** Queues a graph; resolves once the server accepted it, with the handle that follows it. */
  submit(graph: ComfyGraph, options?: SubmitOptions): Promise<ComfyJob>;
  /** Re-attaches to a prompt submitted earlier (e.g. before a restart). */
  follow(promptId: string): ComfyJob;
  /** Removes the prompt from the queue if pending, interrupts it if running. */
  cancel(promptId: string): Promise<void>;
  /** Downloads an output file into memory. */
  download(ref: FileRef): Promise<Download>;
  /** Opens an output file as a stream. */
  downloadStream(ref: FileRef): Promise<DownloadStream>;
  /** Uploads an input image; LoadImage then takes `subfolder/name`. */
  upload(bytes: Uint8Array, filename: string, options?: UploadOptions): Promise<UploadedFile>;
  /** The node types the server knows. */
  objectInfo(): Promise<ObjectInfo>;
  /** The server's version and devices. */
  systemStats(): Promise<SystemStats>;
  /** The server's queue. */
  queue(): Promise<QueueSnapshot>;
  /** Closes the socket and the connection pool; in-flight jobs fail with `ComfyClosedError`. */
  close(): Promise<void>;
}
