/**
 * The web face's operations on generations: create (the prompt's flags and the request's fields planned by the same
 * rules as `/imagine`), read, list, cancel and refine (the thread grammar of Discord). Each turns into a job of the
 * one runner, so web jobs share the fair queue, the limits, the servers and restart recovery with Discord's.
 */
import { readFile } from 'node:fs/promises';
import {
  firstWorkflowOfKind,
  keepAccepted,
  planGeneration,
  planSettings,
  type GenerationPlan,
  type PlanContext,
} from '../workflows/generation-plan.js';
import { storeImageBytes } from '../discord/input-images.js';
import type { Engine } from '../engine.js';
import type { FaultPoint } from '../fault-point.js';
import { newJobId, type InputImage } from '../jobs/model.js';
import type { Logger } from '../logger.js';
import { applyRefine, parseRefine } from '../sessions/refine.js';
import { ownLorasOf } from '../workflows/lora-choices.js';
import { generationSettingsSchema, type GenerationSettings, type LoraChoice } from '../workflows/settings.js';
import type { Caller } from './auth.js';
import type { LiveHub } from './live.js';
import type { OutputFiles } from './output-files.js';
import { PendingGenerations, type Idempotency } from './pending-generations.js';
import { ApiProblem } from './problem.js';
import type { CreateGeneration, GenerationView, RefineRequest } from './schemas.js';
import { viewOf } from './views.js';
import type { WebUploads } from './uploads.js';
import type { WebGeneration, WebRecords } from './web-records.js';
import { catalogueOf } from '../workflows/model-catalogue.js';

/** An image sent with a request. */
export interface Upload {
  readonly bytes: Buffer;
  readonly name: string;
}

/** Checks a webhook URL against the operator's rules; rejects with a 422 problem when it may not be used. */
export type WebhookCheck = (url: string) => Promise<void>;

export interface WebGenerationsOptions {
  readonly engine: Pick<Engine, 'runner' | 'workflows' | 'config' | 'inputs' | 'life' | 'lives'>;
  readonly records: WebRecords;
  readonly files: OutputFiles;
  readonly hub: LiveHub;
  readonly checkWebhook: WebhookCheck;
  readonly uploads: WebUploads;
  /** Where a crash test has the process kill itself (src/fault-point.ts); a no-op in production. */
  readonly fault: FaultPoint;
  /** WEB_PUBLIC_URL: the answers' URLs start with it (relative when unset). */
  readonly publicUrl?: string | undefined;
}

/** The generations of web callers. */
export class WebGenerations {
  readonly #options: WebGenerationsOptions;
  readonly #pending: PendingGenerations;
  /** Requests with an idempotency key still being created: a concurrent retry waits for the first. */
  readonly #creating = new Map<string, Promise<unknown>>();

  constructor(options: WebGenerationsOptions) {
    this.#options = options;
    this.#pending = new PendingGenerations({
      runner: options.engine.runner,
      records: options.records,
      writer: options.engine.life,
      lives: options.engine.lives,
      fault: options.fault,
    });
  }

  /** Starts a generation; with an idempotency key, a repeat of the same request returns the first one. */
  async create(
    caller: Caller,
    body: CreateGeneration,
    upload: Upload | undefined,
    idempotency?: Idempotency,
  ): Promise<{ view: GenerationView; replayed: boolean }> {
    if (idempotency === undefined) return { view: await this.#create(caller, body, upload), replayed: false };
    const slot = `${caller.memberId}\n${idempotency.key}`;
    while (this.#creating.has(slot)) await this.#creating.get(slot)!.catch(() => undefined);
    const creating = this.#createOnce(caller, body, upload, idempotency);
    this.#creating.set(slot, creating);
    try {
      return await creating;
    } finally {
      this.#creating.delete(slot);
    }
  }

  async #createOnce(
    caller: Caller,
    body: CreateGeneration,
    upload: Upload | undefined,
    idempotency: Idempotency,
  ): Promise<{ view: GenerationView; replayed: boolean }> {
    const { records } = this.#options;
    const seen = await records.idempotent(caller.memberId, idempotency.key);
    if (seen !== undefined && seen.bodyHash !== idempotency.bodyHash) {
      throw new ApiProblem(
        422,
        'idempotency-key-reused',
        'This Idempotency-Key was already used for a different request; use a new key for a new request.',
      );
    }
    const record = seen === undefined ? undefined : await records.get(seen.generationId);
    if (record !== undefined && record.owner === caller.memberId) {
      // The first request may have died between its record and its job: the retry finishes what it began.
      if (record.pending) await this.#pending.finish(record, idempotency);
      return { view: await this.view(caller, record.id), replayed: true };
    }
    // A first request; or a retry of one that died right after keeping the key, which keeps the id it chose.
    const view = await this.#create(caller, body, upload, { ...idempotency, keptAs: seen?.generationId });
    return { view, replayed: false };
  }

  /** Finishes the generations a crash left between their record and their job (see PendingGenerations.resume). */
  resumePending(refused: (record: WebGeneration) => Promise<void>, logger: Logger, graceMs?: number): Promise<void> {
    return this.#pending.resume(refused, logger, graceMs);
  }

  /** One of the caller's generations. */
  async view(caller: Caller, id: string): Promise<GenerationView> {
    return this.#viewOf(await this.#own(caller, id));
  }

  /** A page of the caller's generations, newest first. */
  async list(caller: Caller, page: number, limit: number) {
    const { generations, total } = await this.#options.records.list(caller.memberId, (page - 1) * limit, limit);
    const data = await Promise.all(generations.map((record) => this.#viewOf(record)));
    return { data, page, page_count: Math.max(1, Math.ceil(total / limit)), total };
  }

  /** Cancels one of the caller's generations, waiting or running. */
  async cancel(caller: Caller, id: string): Promise<GenerationView> {
    const record = await this.#own(caller, id);
    if (record.outcome) {
      throw new ApiProblem(409, 'job-finished', `This generation has already ${record.outcome.status}.`);
    }
    await this.#options.engine.runner.cancel(id, caller.memberId);
    return this.#viewOf(record);
  }

  /** A new generation from one of the caller's: the Discord thread grammar, or Vary / Upscale of an output. */
  async refine(caller: Caller, id: string, body: RefineRequest): Promise<GenerationView> {
    const record = await this.#own(caller, id);
    const context = this.#planContext();
    const previous = previousSettings(record);
    let settings = previous;
    let inputImage = record.inputImage;
    if (body.action !== undefined) {
      const kind = body.action === 'vary' ? 'image-to-image' : 'upscale';
      const workflow = firstWorkflowOfKind(kind, context);
      if (!workflow) {
        throw new ApiProblem(422, 'no-workflow-of-kind', `No ${kind} workflow is loaded; ask the operator to add one.`);
      }
      const { seed: _seed, ...kept } = previous;
      settings = { ...(kind === 'upscale' ? { prompt: '' } : keepAccepted(kept, workflow)), workflow: workflow.name };
      inputImage = await this.#outputAsInput(record, body.output);
    }
    if (body.text.trim() !== '' || body.action === undefined) {
      const pictureLoras = ownLorasOf(context.workflows.get(settings.workflow ?? ''));
      settings = refineSettings(settings, body.text, pictureLoras);
    }
    const plan = planSettings(settings, {}, inputImage !== undefined, context);
    return this.#enqueue(caller, plan, inputImage, { parentId: record.id, webhook: await this.#webhook(body.webhook) });
  }

  async #create(
    caller: Caller,
    body: CreateGeneration,
    upload: Upload | undefined,
    idempotency?: Idempotency & { keptAs: string | undefined },
  ): Promise<GenerationView> {
    const { prompt, image, webhook, model, ...fields } = body;
    const options = model === undefined ? fields : { ...fields, checkpoint: model };
    if (upload !== undefined && image !== undefined) {
      throw new ApiProblem(
        422,
        'image-twice',
        'Send either an image file or a reference to an image (an earlier output, an upload), not both.',
      );
    }
    const hasImage = upload !== undefined || image !== undefined;
    const plan = planGeneration({ text: prompt, options, defaults: {}, hasImage }, this.#planContext());
    const checkedWebhook = await this.#webhook(webhook);
    // Checked before the image is kept: a refused plan costs no disk.
    if (!plan.ok) throw new ApiProblem(422, plan.identifier, plan.message);
    const inputImage =
      upload !== undefined
        ? await this.#keep(upload.bytes, upload.name)
        : image === undefined
          ? undefined
          : 'upload' in image
            ? await this.#options.uploads.inputImage(caller, image.upload)
            : await this.#outputAsInput(await this.#own(caller, image.generation), image.output);
    return this.#enqueue(caller, plan, inputImage, { webhook: checkedWebhook }, idempotency);
  }

  /** Turns a plan into a job, crash-safe (see PendingGenerations), and answers its view. */
  async #enqueue(
    caller: Caller,
    plan: GenerationPlan,
    inputImage: InputImage | undefined,
    extra: Pick<WebGeneration, 'parentId' | 'webhook'>,
    idempotency?: Idempotency & { keptAs: string | undefined },
  ): Promise<GenerationView> {
    if (!plan.ok) throw new ApiProblem(422, plan.identifier, plan.message);
    const record: WebGeneration & { pending: true } = {
      id: idempotency?.keptAs ?? newJobId(),
      owner: caller.memberId,
      createdAt: Date.now(),
      workflow: plan.workflow.name,
      settings: plan.settings,
      ...(inputImage === undefined ? {} : { inputImage }),
      ...(extra.parentId === undefined ? {} : { parentId: extra.parentId }),
      ...(extra.webhook === undefined ? {} : { webhook: extra.webhook }),
      pending: true,
    };
    await this.#pending.open(record, idempotency);
    return this.#viewOf((await this.#options.records.get(record.id)) ?? record);
  }

  async #webhook(url: string | undefined): Promise<string | undefined> {
    if (url !== undefined) await this.#options.checkWebhook(url);
    return url;
  }

  /** A record of the caller's, or 404 (another caller's generations do not exist, as far as this one knows). */
  async #own(caller: Caller, id: string): Promise<WebGeneration> {
    const record = /^[\w-]{1,64}$/.test(id) ? await this.#options.records.get(id) : undefined;
    if (record === undefined || record.owner !== caller.memberId) {
      throw new ApiProblem(404, 'generation-unknown', `There is no generation ${id.slice(0, 64)} among yours.`);
    }
    return record;
  }

  async #viewOf(record: WebGeneration): Promise<GenerationView> {
    const job = record.outcome ? undefined : await this.#options.engine.runner.findJob(record.id);
    const waiting = this.#options.engine.runner.snapshot().waiting.find((entry) => entry.jobId === record.id);
    const live = this.#options.hub.state(record.id);
    return viewOf(
      { record, job, position: waiting?.position ?? live.position, progress: live.progress },
      this.#options.files,
      this.#options.publicUrl,
    );
  }

  /** One output of an earlier generation, kept as the input image of a new one. */
  async #outputAsInput(record: WebGeneration, index: number): Promise<InputImage> {
    const output = record.outcome?.outputs[index];
    const found =
      output && output.contentType.startsWith('image/') ? await this.#options.files.locate(output) : undefined;
    if (!output || !found) {
      throw new ApiProblem(422, 'output-unknown', `Generation ${record.id} has no image output ${index}.`);
    }
    return this.#keep(await readFile(found.path), output.filename);
  }

  async #keep(bytes: Buffer, name: string): Promise<InputImage> {
    const stored = await storeImageBytes(
      bytes,
      { name, url: `upload:${name}` },
      this.#options.engine.inputs,
      this.#options.engine.config.limits.imagePixels,
    );
    return { path: stored.path, filename: stored.filename };
  }

  #planContext(): PlanContext {
    const { config, workflows } = this.#options.engine;
    return {
      workflows,
      defaultWorkflow: config.workflows.defaultWorkflow,
      maxPromptLength: config.limits.promptLength,
      // The web has no age-restricted channels: adult workflows stay in Discord's.
      ageRestricted: false,
      models: catalogueOf(() => this.#options.engine.runner.modelChoices()),
    };
  }
}

/** The settings a refine starts from: those used, with a size derived from an aspect ratio left to the ratio. */
function previousSettings(record: WebGeneration): GenerationSettings {
  const parsed = generationSettingsSchema.safeParse({ prompt: '', ...record.settings });
  const settings: GenerationSettings = parsed.success
    ? parsed.data
    : { prompt: String(record.settings['prompt'] ?? '') };
  if (settings.aspect === undefined) return settings;
  const { width: _width, height: _height, ...sized } = settings;
  return sized;
}

/** Applies the thread grammar to `previous`, or throws the sentence a Discord member would read. */
function refineSettings(
  previous: GenerationSettings,
  text: string,
  pictureLoras: readonly LoraChoice[],
): GenerationSettings {
  const refine = parseRefine(text, { hasImage: false, ignorePrefix: '' });
  if (refine.kind === 'error') throw new ApiProblem(422, 'bad-flag', refine.message);
  if (refine.kind === 'ignore') {
    throw new ApiProblem(
      422,
      'empty-refine',
      'Write what to change: new text, "+ more", flags such as --seed 7, or "again" for a new seed.',
    );
  }
  return applyRefine(previous, refine, pictureLoras);
}
