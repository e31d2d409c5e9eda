/**
 * The client of ONE ComfyUI server: HTTP routes over a pooled undici Agent, one reconnecting WebSocket multiplexing
 * all of its prompts, and job handles that end exactly once (see `JobMonitor` and `JobState`).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { silentLogger } from '../logger.js';
import type { BackoffOptions } from './backoff.js';
import { ComfyOutputTooLargeError, ComfyUnreachableError, ComfyValidationError } from './errors.js';
import { ComfyHttp, type DownloadStream, type UploadOptions } from './http.js';
import type { ComfyJob } from './job.js';
import { JobMonitor } from './job-monitor.js';
import { isPostablePromptId, newPromptId } from './prompt-id.js';
import { PromptRoutesDetector } from './prompt-routes.js';
import { describeFailure, isUnreachable } from './network-errors.js';
import type {
  ComfyGraph,
  Features,
  FileRef,
  NodeErrors,
  ObjectInfo,
  QueueSnapshot,
  SystemStats,
  UploadedFile,
} from './schemas.js';
import type { ComfyServer, Download, SubmitOptions } from './server.js';
import { ComfySocket } from './socket.js';

/** The largest output `download` reads when the caller sets no limit: far above any image, below a runaway video. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;

/** How to reach and follow one server. */
export interface ComfyClientOptions {
  /** A short name for logs and errors. */
  readonly name: string;
  /** `http://host:port` (a path prefix is kept, for servers behind a reverse proxy). */
  readonly baseUrl: string;
  readonly logger?: Logger;
  /** No event, no queue movement and the prompt not listed by the server this long: `ComfyStalledError`. 0: never. */
  readonly stallTimeoutMs?: number;
  /** The WebSocket client id; keep it stable across restarts to keep receiving events of earlier prompts. */
  readonly clientId?: string;
  /** WebSocket reconnect backoff. Default 250 ms to 10 s. */
  readonly reconnect?: BackoffOptions;
  /** Reconciliation backoff while the socket is down. Default 250 ms to 5 s. */
  readonly poll?: BackoffOptions;
  /** Reconciliation interval while the socket is up. Default 5 s. */
  readonly pollIntervalMs?: number;
  /** Ask for previews with metadata (type-4 frames). False behaves as a legacy client (type-1 frames). Default true. */
  readonly featureFlags?: boolean;
  /** TCP connect timeout, so an unreachable server fails fast. Default 2 s. */
  readonly connectTimeoutMs?: number;
  /** Time to wait for response headers, and between body chunks. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** The largest output file `download` reads into memory; a larger one fails before or while it streams. */
  readonly maxDownloadBytes?: number;
}

/** The client of one ComfyUI server. */
export class ComfyClient implements ComfyServer {
  readonly name: string;
  readonly baseUrl: string;
  readonly clientId: string;
  private readonly logger: Logger;
  private readonly agent: Agent;
  private readonly http: ComfyHttp;
  private readonly socket: ComfySocket;
  private readonly monitor: JobMonitor;
  private readonly promptRoutes: PromptRoutesDetector;
  private readonly connectTimeoutMs: number;
  private readonly maxDownloadBytes: number;

  constructor(options: ComfyClientOptions) {
    this.maxDownloadBytes = options.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
    this.name = options.name;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.clientId = options.clientId ?? randomUUID();
    this.logger = (options.logger ?? silentLogger()).child({ comfy: options.name });
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.agent = new Agent({ connect: { timeout: this.connectTimeoutMs }, keepAliveTimeout: 10_000 });
    this.http = new ComfyHttp(this.name, this.baseUrl, this.agent, options.requestTimeoutMs ?? 30_000);
    this.promptRoutes = new PromptRoutesDetector(this.http, this.logger);
    this.monitor = new JobMonitor({
      server: this.name,
      routes: () => this.promptRoutes.routes(),
      logger: this.logger,
      stallTimeoutMs: options.stallTimeoutMs ?? 600_000,
      poll: options.poll ?? { minMs: 250, maxMs: 5_000 },
      pollIntervalMs: options.pollIntervalMs ?? 5_000,
      isSocketOpen: () => this.socket.isOpen,
      cancel: (promptId) => this.cancel(promptId),
    });
    this.socket = new ComfySocket(
      {
        url: socketUrl(this.baseUrl, this.clientId),
        agent: this.agent,
        logger: this.logger,
        featureFlags: options.featureFlags ?? true,
        reconnect: options.reconnect ?? { minMs: 250, maxMs: 10_000 },
      },
      {
        onOpen: () => this.monitor.onSocketOpen(),
        onClose: () => {
          // The server may be restarting, perhaps as another version: which routes it has is asked again.
          this.promptRoutes.forget();
          this.monitor.onSocketClosed();
        },
        onMessage: (message) => this.monitor.onMessage(message),
        onFrame: (frame) => this.monitor.onFrame(frame),
      },
    );
  }

  /** True while the event socket is connected. */
  get connected(): boolean {
    return this.socket.isOpen;
  }

  /** How many prompts this client is following. */
  get inFlight(): number {
    return this.monitor.size;
  }

  /** Opens the event socket now (it also opens on the first submit or follow). */
  connect(): Promise<boolean> {
    return this.socket.waitOpen(this.connectTimeoutMs);
  }

  /**
   * Queues a graph. A 400 fails with `ComfyValidationError`. A 200 with `node_errors` means the server dropped the
   * invalid outputs and runs the rest: that is a warning on the job (`job.warnings`), since the member still gets
   * the valid results — unless every output the caller named in `options.outputs` was dropped, which is an error (the
   * prompt is then cancelled, as what is left is of no use to the caller).
   */
  async submit(graph: ComfyGraph, options: SubmitOptions = {}): Promise<ComfyJob> {
    const promptId = options.promptId ?? newPromptId();
    // Current servers refuse other shapes (400 invalid_prompt_id); a caller holding one must mint a new id.
    if (!isPostablePromptId(promptId)) {
      throw new TypeError(`prompt id ${JSON.stringify(promptId)} is not a canonical lowercase UUID`);
    }
    // Best effort: with the socket open first, no early event is missed (history would catch up anyway).
    await this.socket.waitOpen(this.connectTimeoutMs);
    const tracked = this.monitor.track(promptId, true);
    tracked.submitting = true;
    try {
      const accepted = await this.http.postPrompt({
        prompt: graph,
        client_id: this.clientId,
        prompt_id: promptId,
        ...(options.front ? { front: true } : {}),
        ...(options.extraData ? { extra_data: options.extraData } : {}),
      });
      await this.checkDroppedOutputs(accepted.prompt_id, accepted.node_errors, options.outputs);
      if (accepted.prompt_id === promptId) return this.startFollowing(promptId, accepted.node_errors);
      // Servers before 0.3.44 ignore our prompt id and choose their own: follow theirs.
      this.logger.warn({ ours: promptId, theirs: accepted.prompt_id }, 'comfy server chose its own prompt id');
      this.monitor.forget(promptId);
      return this.startFollowing(accepted.prompt_id, accepted.node_errors);
    } catch (error) {
      this.monitor.forget(promptId);
      throw error;
    }
  }

  /** Re-attaches to a prompt submitted earlier: reconciles with history and queue first, then follows events. */
  follow(promptId: string): ComfyJob {
    const existing = this.monitor.get(promptId);
    if (existing) return existing.job;
    this.socket.start();
    const tracked = this.monitor.track(promptId, false);
    this.monitor.requestReconcile(0);
    setImmediate(() => tracked.activate());
    return tracked.job;
  }

  /** `POST /interrupt` for this prompt: stops it if it is the one running (servers before 0.3.56 stop any). */
  async interrupt(promptId: string): Promise<void> {
    await this.http.interrupt(promptId);
  }

  /**
   * Removes the prompt from the queue if pending, interrupts it if running; its job then ends as interrupted. Through
   * the jobs API where the server has it (one atomic call), else `POST /queue {delete}` and `POST /interrupt`.
   */
  async cancel(promptId: string): Promise<void> {
    const tracked = this.monitor.get(promptId);
    if (tracked) tracked.state.cancelRequested = true;
    await (await this.promptRoutes.routes()).cancel(promptId);
    this.monitor.requestReconcile(0);
  }

  /** True when the server has the jobs API (`/api/jobs`); probed once per connection, again after a reconnect. */
  async hasJobsApi(): Promise<boolean> {
    return (await this.promptRoutes.routes()).kind === 'jobs-api';
  }

  /** Downloads an output file into memory, refusing one over `maxDownloadBytes` before holding it all. */
  async download(ref: FileRef): Promise<Download> {
    const { body, mimeType, size } = await this.http.view(ref);
    const limit = this.maxDownloadBytes;
    if (size !== undefined && size > limit) {
      body.destroy();
      throw new ComfyOutputTooLargeError(this.name, ref.filename, limit, `Content-Length ${size}`);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of body) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        received += bytes.length;
        // A missing or false Content-Length must not let a file fill the memory: leaving the loop ends the stream.
        if (received > limit)
          throw new ComfyOutputTooLargeError(this.name, ref.filename, limit, `${received} bytes read`);
        chunks.push(bytes);
      }
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      throw new ComfyUnreachableError(this.name, `GET /view cut off: ${describeFailure(error)}`, error);
    }
    return { bytes: Buffer.concat(chunks), mimeType };
  }

  /** Opens an output file as a stream; read it to the end or destroy it. */
  downloadStream(ref: FileRef): Promise<DownloadStream> {
    return this.http.view(ref);
  }

  /** Uploads an input image. */
  upload(bytes: Uint8Array, filename: string, options?: UploadOptions): Promise<UploadedFile> {
    return this.http.uploadImage(bytes, filename, options);
  }

  /** `GET /object_info`, read node by node; node types whose description could not be read are logged and kept aside. */
  async objectInfo(): Promise<ObjectInfo> {
    const info = await this.http.objectInfo();
    for (const [nodeType, reason] of info.unreadable) {
      this.logger.debug({ nodeType, reason }, "skipped a node type: the server's description of it could not be read");
    }
    return info;
  }

  /** `GET /system_stats`. */
  systemStats(): Promise<SystemStats> {
    return this.http.systemStats();
  }

  /** `GET /features`. */
  features(): Promise<Features> {
    return this.http.features();
  }

  /** `GET /queue`. */
  queue(): Promise<QueueSnapshot> {
    return this.http.queue();
  }

  /** Closes the socket and the connection pool; in-flight jobs fail with `ComfyClosedError`. */
  async close(): Promise<void> {
    this.monitor.close();
    await this.socket.close();
    await this.agent.destroy();
  }

  private async checkDroppedOutputs(promptId: string, nodeErrors: NodeErrors, wanted?: readonly string[]) {
    if (Object.keys(nodeErrors).length === 0) return;
    const dropped = new Set(Object.values(nodeErrors).flatMap((nodeError) => nodeError.dependent_outputs));
    if (wanted && wanted.length > 0 && wanted.every((output) => dropped.has(output))) {
      await this.cancel(promptId).catch((error: unknown) => {
        this.logger.warn({ err: error, promptId }, 'comfy cancel of a prompt without valid outputs failed');
      });
      const message = `every requested output (${wanted.join(', ')}) failed validation`;
      throw new ComfyValidationError(this.name, 200, 'requested_outputs_invalid', message, nodeErrors);
    }
    this.logger.warn({ promptId, nodeErrors }, 'comfy dropped some outputs at validation; the rest runs');
  }

  private startFollowing(promptId: string, warnings: NodeErrors): ComfyJob {
    const tracked = this.monitor.track(promptId, true);
    tracked.submitting = false;
    tracked.warnings = warnings;
    this.logger.debug({ promptId }, 'comfy prompt queued');
    this.monitor.requestReconcile(0);
    // Listeners attached right after `submit` resolves get every event, including those that came during the POST.
    setImmediate(() => tracked.activate());
    return tracked.job;
  }
}

function socketUrl(baseUrl: string, clientId: string): string {
  const url = new URL(`${baseUrl}/ws`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('clientId', clientId);
  return url.toString();
}
