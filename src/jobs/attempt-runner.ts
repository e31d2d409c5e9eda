/**
 * Carries out one attempt of a job on its server: persist the hand-out (with the prompt id) before anything else,
 * upload the input image, bind the graph for that server, submit, follow the prompt's events, download the files.
 * What to do with the outcome is the runner's business: the attempt reports it through `AttemptHooks`.
 */
import {
  ComfyOutputTooLargeError,
  ComfyUnreachableError,
  type ComfyJob,
  type ComfyServer,
  type JobOutcome,
  type OutputFile,
} from '../comfy/index.js';
import { isPostablePromptId } from '../comfy/prompt-id.js';
import { sentence } from '../i18n/catalog.js';
import { UserFacingError } from '../errors.js';
import type { Workflow } from '../workflows/index.js';
import { uploadInputImage, type Attempt } from './attempt.js';
import type { JobEvent, JobFile } from './events.js';
import { isServerLoss } from './failure-policy.js';
import { bindForServer } from './job-binding.js';
import type { JobBook } from './job-book.js';
import { downloadOutputs, selectOutputs } from './job-files.js';
import { newPromptId, type InputImage, type JobRecord, type KeptFile, type OutputRef } from './model.js';
import type { WorkflowSource } from './server-capabilities.js';
import type { FileSpellings } from '../workflows/file-spellings.js';
import type { SettingRanges } from '../workflows/server-ranges.js';

/** A finished attempt's result. */
export interface AttemptResult {
  readonly refs: OutputRef[];
  readonly files: JobFile[];
  /** The files as kept on disk until delivered (undefined when they could not be kept). */
  readonly kept: KeptFile[] | undefined;
  readonly durationMs: number;
}

/** How an attempt talks back to the runner. */
export interface AttemptHooks {
  /** The job's current server client. */
  client(server: string): ComfyServer | undefined;
  /** The client id prompts are submitted under (recorded with the job, for whoever follows it later). */
  clientId?(): string;
  /** The workflow (its own or a fallback) the job runs on that server. */
  workflowOn(job: JobRecord, server: string): Workflow | undefined;
  /** The ranges that server declares for the inputs the workflow's settings go to (seeds are drawn within them). */
  rangesOn?(workflow: Workflow, server: string): SettingRanges | undefined;
  /** How a server spells the files it lists, so the graph names each as that server does. */
  spellingsOn?(server: string): FileSpellings | undefined;
  /** True while the runner counts this attempt as the job's live one. */
  isCurrent(jobId: string, attempt: Attempt): boolean;
  emit(jobId: string, event: JobEvent): void;
  /** The bytes of a job's input image, wherever this process finds them (a fleet's shelf too). */
  readInput?(image: InputImage): Promise<Buffer>;
  /** Keeps a result's files on disk until the job is delivered. */
  keep(jobId: string, files: readonly JobFile[]): Promise<KeptFile[] | undefined>;
  /** The server began executing the job (shown as running from then on, in every process's view). */
  started?(jobId: string, startedAt: number): void;
  succeeded(jobId: string, attempt: Attempt, result: AttemptResult): void;
  /** The attempt ended without a result, or never got to submit. */
  failed(jobId: string, attempt: Attempt, error: unknown): void;
  /** The member asked to cancel before the handle existed: cancel the prompt now. */
  cancelOnServer(jobId: string, attempt: Attempt, comfyJob: ComfyJob): void;
}

const CANCELLED_BEFORE_SUBMIT = new UserFacingError('job-cancelled', 'The job was cancelled.');

/** Runs attempts for the runner. */
export class AttemptRunner {
  constructor(
    private readonly book: JobBook,
    private readonly workflows: WorkflowSource,
    private readonly hooks: AttemptHooks,
  ) {}

  /** Hands the job to the attempt's server. */
  submit(jobId: string, attempt: Attempt): void {
    void this.#submit(jobId, attempt).catch((error: unknown) => this.hooks.failed(jobId, attempt, error));
  }

  /** Follows a prompt already on the attempt's server (submitted now, or before a restart). */
  follow(jobId: string, attempt: Attempt, comfyJob: ComfyJob): void {
    attempt.comfyJob = comfyJob;
    // Stopping while the POST was in flight: the prompt id is persisted, so the next start follows it.
    if (attempt.abandoned) return;
    comfyJob.on('started', () => this.#started(jobId, attempt));
    comfyJob.on('progress', ({ value, max, node }) => {
      const elapsedMs = Date.now() - (attempt.startedAt ?? Date.now());
      if (!attempt.abandoned) this.hooks.emit(jobId, { type: 'progress', value, max, node, elapsedMs });
    });
    comfyJob.on('preview', ({ bytes, mimeType }) => {
      if (!attempt.abandoned) this.hooks.emit(jobId, { type: 'preview', bytes: Buffer.from(bytes), mimeType });
    });
    if (attempt.cancelRequested) this.hooks.cancelOnServer(jobId, attempt, comfyJob);
    void comfyJob.done.then((outcome) => this.#ended(jobId, attempt, outcome));
  }

  async #submit(jobId: string, attempt: Attempt): Promise<void> {
    const before = this.book.require(jobId);
    const to = attempt.server;
    // The prompt id is persisted before the prompt exists anywhere, so a restart can always look for it.
    const job = await this.book.save(jobId, {
      state: 'submitted',
      server: to,
      // A retry gets a fresh id (the old one may be in the server's history); so does an id of an older shape,
      // which current ComfyUI would refuse (it is only ever looked up, never posted).
      promptId: before.attempts === 0 && isPostablePromptId(before.promptId) ? before.promptId : newPromptId(),
      attempts: before.attempts + 1,
      clientId: this.hooks.clientId?.(),
      movedFrom: undefined,
      submittedAt: Date.now(),
      startedAt: undefined,
    });
    if (attempt.abandoned) return;
    const from = before.movedFrom;
    this.hooks.emit(jobId, from === undefined ? { type: 'submitted', server: to } : { type: 'moved', from, to });
    const client = this.#client(to);
    const workflow = this.hooks.workflowOn(job, to);
    if (workflow === undefined) {
      throw new UserFacingError('workflow-unavailable', sentence('job.cannotRunNow', { workflow: job.workflow }));
    }
    const imageName = job.inputImage ? await uploadInputImage(client, job.inputImage, this.hooks.readInput) : undefined;
    // Given up during the upload (server down): the job may already be on another server, with its own graph.
    if (attempt.abandoned) return;
    const ranges = this.hooks.rangesOn?.(workflow, to);
    const spellings = this.hooks.spellingsOn?.(to);
    const { graph, applied } = bindForServer(this.workflows, workflow, job, imageName, ranges, spellings);
    // The outputs of the workflow that runs here (a fallback has its own node ids), kept for after a restart too.
    const outputNodes = workflow.outputs.map((output) => output.nodeId);
    await this.book.save(jobId, { graph, applied: { ...applied }, outputNodes });
    if (attempt.abandoned) return;
    if (attempt.cancelRequested) return this.hooks.failed(jobId, attempt, CANCELLED_BEFORE_SUBMIT);
    this.follow(jobId, attempt, await client.submit(graph, { promptId: job.promptId, outputs: outputNodes }));
  }

  #started(jobId: string, attempt: Attempt): void {
    if (attempt.abandoned || attempt.startedAt !== undefined) return;
    attempt.started = true;
    // A job followed after a restart keeps the start time it had.
    attempt.startedAt = this.book.require(jobId).startedAt ?? Date.now();
    this.book.update(jobId, { state: 'running', startedAt: attempt.startedAt });
    this.hooks.started?.(jobId, attempt.startedAt);
  }

  async #ended(jobId: string, attempt: Attempt, outcome: JobOutcome): Promise<void> {
    if (attempt.abandoned || !this.hooks.isCurrent(jobId, attempt)) return;
    if (outcome.status !== 'succeeded') return this.hooks.failed(jobId, attempt, outcome.error);
    try {
      const result = await this.#download(jobId, attempt, outcome.outputs);
      // Stopping during the download: the job is still "running" in the store; the next start delivers it.
      if (!attempt.abandoned) this.hooks.succeeded(jobId, attempt, result);
    } catch (error) {
      // The server died between finishing and handing over the files: the policy runs the job again elsewhere.
      if (isServerLoss(error) || attempt.abandoned) return this.hooks.failed(jobId, attempt, error);
      // Over the size limit: fetching it again, here or elsewhere, cannot help; the member reads the limit.
      if (error instanceof ComfyOutputTooLargeError) return this.hooks.failed(jobId, attempt, error);
      const sentence = 'The image was made, but the bot could not fetch it from the image server; please try again.';
      const failure = new UserFacingError('output-unavailable', sentence, { cause: error, detail: String(error) });
      this.hooks.failed(jobId, attempt, failure);
    }
  }

  async #download(jobId: string, attempt: Attempt, outputs: OutputFile[]): Promise<AttemptResult> {
    const job = this.book.require(jobId);
    // Jobs recorded before output nodes were kept fall back to the workflow the member chose.
    const outputNodes =
      job.outputNodes ?? this.workflows.get(job.workflow)?.outputs.map((output) => output.nodeId) ?? [];
    const refs = selectOutputs(outputs, outputNodes);
    const files = await downloadOutputs(this.#client(attempt.server), refs);
    const durationMs = Date.now() - (job.startedAt ?? job.submittedAt ?? Date.now());
    // Kept before the job is recorded as succeeded: a restart then never needs the server for this result.
    const kept = await this.hooks.keep(jobId, files);
    return { refs, files, kept, durationMs };
  }

  #client(server: string): ComfyServer {
    const client = this.hooks.client(server);
    if (client === undefined) throw new ComfyUnreachableError(server, 'the server is not configured or not connected');
    return client;
  }
}
