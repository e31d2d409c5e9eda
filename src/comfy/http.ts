/**
 * ComfyUI's HTTP routes over one pooled undici `Agent` that the client owns (and closes). Every body is checked with
 * zod, taking what the client needs and ignoring the rest; connection failures become `ComfyUnreachableError`, answers
 * the client cannot use (a status, a body that is not JSON, a needed field of the wrong shape) `ComfyProtocolError`.
 */
import type { Readable } from 'node:stream';
import { FormData, request, type Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ComfyProtocolError, ComfyUnreachableError, ComfyValidationError } from './errors.js';
import { mimeTypeOf } from './outputs.js';
import {
  FeaturesSchema,
  HistorySchema,
  PromptAcceptedSchema,
  PromptRejectedSchema,
  QueueSchema,
  SystemStatsSchema,
  UploadedFileSchema,
  type ComfyGraph,
  type Features,
  type FileRef,
  type HistoryEntry,
  type PromptAccepted,
  type QueueSnapshot,
  type SystemStats,
  type UploadedFile,
} from './schemas.js';
import { isUnreachable, describeFailure } from './network-errors.js';
import { parseObjectInfo, type ObjectInfo } from './object-info.js';
import { describeBodyProblem } from './answer-problems.js';
import { JobCancelledSchema, JobDetailSchema, JobListSchema, historyOfJob, queueOfJobs } from './jobs-api.js';

/** The body of `POST /prompt`. */
export interface PromptRequest {
  readonly prompt: ComfyGraph;
  readonly client_id: string;
  readonly prompt_id: string;
  readonly front?: boolean;
  readonly extra_data?: Record<string, unknown>;
}

/** A file being downloaded: read or pipe `body` to the end, or destroy it. */
export interface DownloadStream {
  readonly body: Readable;
  readonly mimeType: string;
  /** From `Content-Length`, when the server sent it. */
  readonly size?: number;
}

/** Options of an image upload. */
export interface UploadOptions {
  readonly subfolder?: string;
  readonly overwrite?: boolean;
  /** `input` (default), `temp` or `output`. */
  readonly type?: string;
}

interface Call {
  readonly method: Dispatcher.HttpMethod;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly json?: unknown;
  readonly form?: FormData;
}

const MAX_ERROR_TEXT = 500;

/** The HTTP routes of one ComfyUI server. */
export class ComfyHttp {
  constructor(
    private readonly server: string,
    private readonly baseUrl: string,
    private readonly agent: Agent,
    private readonly requestTimeoutMs: number,
  ) {}

  /** `POST /prompt`; a 400 becomes `ComfyValidationError`. */
  async postPrompt(body: PromptRequest): Promise<PromptAccepted> {
    const route = 'POST /prompt';
    const response = await this.call(route, { method: 'POST', path: '/prompt', json: body });
    if (response.statusCode === 400) {
      const rejected = await this.parse(route, response, PromptRejectedSchema, 'body');
      const { type = 'invalid_prompt', message = 'invalid prompt', details } = rejected.error ?? {};
      const extra = rejected.error && 'extra_info' in rejected.error ? rejected.error['extra_info'] : undefined;
      const extraInfo = isRecord(extra) ? extra : undefined;
      throw new ComfyValidationError(this.server, 400, type, message, rejected.node_errors, { details, extraInfo });
    }
    return this.parse(route, await this.expectOk(route, response), PromptAcceptedSchema, 'body');
  }

  /** `GET /history/{id}`: the entry once the prompt finished, `undefined` while queued, running, or unknown. */
  async history(promptId: string): Promise<HistoryEntry | undefined> {
    const route = 'GET /history/{id}';
    const path = `/history/${encodeURIComponent(promptId)}`;
    const response = await this.expectOk(route, await this.call(route, { method: 'GET', path }));
    return (await this.parse(route, response, HistorySchema, 'history'))[promptId];
  }

  /** `GET /queue`, pending prompts sorted into the order they will run (the server lists them in heap order). */
  async queue(): Promise<QueueSnapshot> {
    const route = 'GET /queue';
    const response = await this.expectOk(route, await this.call(route, { method: 'GET', path: '/queue' }));
    const queue = await this.parse(route, response, QueueSchema, 'queue');
    const pending = [...queue.queue_pending].sort(
      ([a, idA], [b, idB]) => a - b || (idA < idB ? -1 : idA > idB ? 1 : 0),
    );
    return { running: queue.queue_running.map((item) => item[1]), pending: pending.map((item) => item[1]) };
  }

  /** `POST /queue {delete}`: removes pending prompts (a running one is not affected). */
  async deleteFromQueue(promptIds: readonly string[]): Promise<void> {
    await this.empty('POST /queue', { method: 'POST', path: '/queue', json: { delete: promptIds } });
  }

  /** `POST /interrupt {prompt_id}`: interrupts that prompt if it is the running one (servers before 0.3.56: any). */
  async interrupt(promptId: string): Promise<void> {
    await this.empty('POST /interrupt', { method: 'POST', path: '/interrupt', json: { prompt_id: promptId } });
  }

  /**
   * Probes `GET /api/jobs`: true when the server has the jobs API, false when it answers 404 (0.3.x), undefined for
   * any other answer (the question stays open).
   */
  async probeJobsApi(): Promise<boolean | undefined> {
    const route = 'GET /api/jobs';
    const query = { status: 'pending', limit: '1' };
    const response = await this.call(route, { method: 'GET', path: '/api/jobs', query });
    if (response.statusCode === 404) {
      await response.body.dump();
      return false;
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      return undefined;
    }
    return JobListSchema.safeParse(await this.readJson(route, response).catch(() => undefined)).success
      ? true
      : undefined;
  }

  /** `GET /api/jobs?status=in_progress,pending`: the queue, as the jobs API tells it. */
  async activeJobs(): Promise<QueueSnapshot> {
    const route = 'GET /api/jobs';
    const query = { status: 'in_progress,pending' };
    const response = await this.expectOk(route, await this.call(route, { method: 'GET', path: '/api/jobs', query }));
    return queueOfJobs((await this.parse(route, response, JobListSchema, 'jobs')).jobs);
  }

  /** `GET /api/jobs/{id}`: how the prompt ended, in history's shape; undefined while queued or running, or unknown. */
  async finishedJob(promptId: string): Promise<HistoryEntry | undefined> {
    const route = 'GET /api/jobs/{id}';
    const path = `/api/jobs/${encodeURIComponent(promptId)}`;
    const response = await this.call(route, { method: 'GET', path });
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    return historyOfJob(await this.parse(route, await this.expectOk(route, response), JobDetailSchema, 'job'));
  }

  /** `POST /api/jobs/{id}/cancel`: true when it interrupted the running prompt or removed it from the queue. */
  async cancelJob(promptId: string): Promise<boolean> {
    const route = 'POST /api/jobs/{id}/cancel';
    const path = `/api/jobs/${encodeURIComponent(promptId)}/cancel`;
    const response = await this.expectOk(route, await this.call(route, { method: 'POST', path }));
    return (await this.parse(route, response, JobCancelledSchema, 'cancel')).cancelled;
  }

  /** `GET /view`, streamed. */
  async view(ref: FileRef): Promise<DownloadStream> {
    const route = 'GET /view';
    const query = { filename: ref.filename, subfolder: ref.subfolder, type: ref.type };
    const response = await this.expectOk(route, await this.call(route, { method: 'GET', path: '/view', query }));
    const contentType = headerOf(response, 'content-type')?.split(';')[0]?.trim();
    const length = headerOf(response, 'content-length');
    return {
      body: response.body,
      mimeType: contentType || mimeTypeOf(ref.filename),
      size: length === undefined || !/^\d+$/.test(length) ? undefined : Number(length),
    };
  }

  /** `POST /upload/image` (multipart). */
  async uploadImage(bytes: Uint8Array, filename: string, options: UploadOptions = {}): Promise<UploadedFile> {
    const route = 'POST /upload/image';
    const form = new FormData();
    form.append('image', new Blob([bytes], { type: mimeTypeOf(filename) }), filename);
    if (options.overwrite) form.append('overwrite', 'true');
    if (options.subfolder) form.append('subfolder', options.subfolder);
    form.append('type', options.type ?? 'input');
    const response = await this.call(route, { method: 'POST', path: '/upload/image', form });
    return this.parse(route, await this.expectOk(route, response), UploadedFileSchema, 'body');
  }

  /** `GET /object_info`, read node by node (see `parseObjectInfo`); only a body that is not an object is unusable. */
  async objectInfo(): Promise<ObjectInfo> {
    const route = 'GET /object_info';
    const response = await this.expectOk(route, await this.call(route, { method: 'GET', path: '/object_info' }));
    const reading = parseObjectInfo(await this.readJson(route, response));
    if (!reading.ok) throw new ComfyProtocolError(this.server, route, reading.problem);
    return reading.info;
  }

  /** `GET /system_stats`. */
  async systemStats(): Promise<SystemStats> {
    return this.getJson('GET /system_stats', '/system_stats', SystemStatsSchema, 'system_stats');
  }

  /** `GET /features`; servers older than 0.3.44 answer 404, read as no features. */
  async features(): Promise<Features> {
    const route = 'GET /features';
    const response = await this.call(route, { method: 'GET', path: '/features' });
    if (response.statusCode === 404) {
      await response.body.dump();
      return {};
    }
    return this.parse(route, await this.expectOk(route, response), FeaturesSchema, 'features');
  }

  private async getJson<T extends z.ZodType>(
    route: string,
    path: string,
    schema: T,
    root: string,
  ): Promise<z.infer<T>> {
    const response = await this.expectOk(route, await this.call(route, { method: 'GET', path }));
    return this.parse(route, response, schema, root);
  }

  private async empty(route: string, call: Call): Promise<void> {
    const response = await this.expectOk(route, await this.call(route, call));
    await response.body.dump();
  }

  private async call(route: string, call: Call): Promise<Dispatcher.ResponseData> {
    const url = new URL(`${this.baseUrl}${call.path}`);
    for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
    const body = call.form ?? (call.json === undefined ? undefined : JSON.stringify(call.json));
    const headers = call.json === undefined ? {} : { 'content-type': 'application/json' };
    try {
      return await request(url, {
        dispatcher: this.agent,
        method: call.method,
        headers,
        body,
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: this.requestTimeoutMs,
      });
    } catch (error) {
      if (isUnreachable(error)) {
        throw new ComfyUnreachableError(this.server, `${route} failed: ${describeFailure(error)}`, error);
      }
      throw error;
    }
  }

  private async expectOk(route: string, response: Dispatcher.ResponseData): Promise<Dispatcher.ResponseData> {
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    // aiohttp answers an unhandled exception with "500 Internal Server Error\n\nServer got itself in trouble".
    const text = (await this.readText(route, response)).replace(/\s+/g, ' ').trim();
    const detail = `HTTP ${response.statusCode}${text ? `: ${text.slice(0, MAX_ERROR_TEXT)}` : ''}`;
    throw new ComfyProtocolError(this.server, route, detail, response.statusCode);
  }

  /**
   * Reads a body with `schema`, which takes what the client needs and ignores the rest; `root` names the body in the
   * problem's path (`history.<id>.outputs is a string`).
   */
  private async parse<T extends z.ZodType>(
    route: string,
    response: Dispatcher.ResponseData,
    schema: T,
    root: string,
  ): Promise<z.infer<T>> {
    const json = await this.readJson(route, response);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ComfyProtocolError(this.server, route, describeBodyProblem(root, json, parsed.error.issues));
    }
    return parsed.data;
  }

  private async readJson(route: string, response: Dispatcher.ResponseData): Promise<unknown> {
    const text = await this.readText(route, response);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      const start = text.replace(/\s+/g, ' ').trim().slice(0, 80);
      throw new ComfyProtocolError(this.server, route, `its body is not JSON${start ? ` (it starts "${start}")` : ''}`);
    }
  }

  private async readText(route: string, response: Dispatcher.ResponseData): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      throw new ComfyUnreachableError(this.server, `${route}: body cut off: ${describeFailure(error)}`, error);
    }
  }
}

function headerOf(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
