/**
 * Shows jobs to members: listens to every job event from the runner and keeps each job's status card current; on a
 * result, posts the files, opens (or continues) the session it belongs to and records the generation.
 *
 * The terminal events' promise is the delivery confirmation the runner waits for (src/jobs/events.ts): it resolves
 * once the member can see the outcome (or once every way of telling them was refused: final-post.ts), and rejects on a
 * transient failure, so the delivery is tried again later. Every step of a delivery is journaled
 * (delivery-journal.ts), so a delivery tried again — after a crash at any point, a restart, a failed store write —
 * does only the steps not yet done: one post, one session, one generation. No step but the post talks to Discord.
 */
import type { FaultPoint } from '../fault-point.js';
import { sentenceFor } from '../errors.js';
import { text } from '../i18n/catalog.js';
import type { Logger } from '../logger.js';
import type { JobEvent, JobFile } from '../jobs/events.js';
import type { JobRecord } from '../jobs/model.js';
import type { GenerationOutcome, Sessions } from '../sessions/index.js';
import {
  renderCard,
  TEXT_FIELD_LIMIT,
  type CardDetails,
  type CardFile,
  type CardState,
  type CardText,
} from './cards.js';
import type { CardUpdater, PostedCard } from './card-updater.js';
import { cardTargetOf, DEFAULT_ATTACHMENT_LIMIT } from './delivery-info.js';
import type { DeliveryJournal, DeliveryRecord } from './delivery-journal.js';
import type { FinalCard, FinalPoster, OnPosted } from './final-post.js';
import { fitAttachments } from './fit-attachments.js';
import { refineOnCard, type SessionOpener } from './session-opener.js';

export interface JobPresenterOptions {
  readonly cards: CardUpdater;
  readonly poster: FinalPoster;
  readonly journal: DeliveryJournal;
  readonly sessions: Sessions;
  readonly sessionOpener: SessionOpener;
  /** Replies starting with this are chat (`REFINE_IGNORE_PREFIX`), as the finished card's footer says. */
  readonly ignorePrefix: string;
  readonly logger: Logger;
  readonly fault: FaultPoint;
  readonly now?: () => number;
}

/** Turns job events into status cards and results. */
export class JobPresenter {
  /** The newest preview of each running job, shown with its progress. */
  readonly #previews = new Map<string, CardFile>();
  readonly #options: JobPresenterOptions;

  constructor(options: JobPresenterOptions) {
    this.#options = options;
  }

  /** The runner's listener: `runner.onEvent(presenter.listener)`. */
  readonly listener = (job: JobRecord, event: JobEvent): void | Promise<void> => {
    const target = cardTargetOf(job);
    if (!target) return undefined;
    // Rendered only when the card updater sends it: most intermediate states are replaced before that.
    const show = (state: CardState) =>
      this.#options.cards.show(
        job.id,
        target,
        () => renderCard(job.id, detailsOf(job), state),
        state.phase === 'queued' ? 'position' : 'state',
      );
    switch (event.type) {
      case 'queued':
        return show({ phase: 'queued', position: event.position });
      case 'leaving-queue':
        // Another process may carry the job and edit its card from now on: no position of ours may land after that.
        return this.#options.cards.settle(job.id).then(() => undefined);
      case 'submitted':
        return show({ phase: 'starting' });
      case 'moved':
        return show({ phase: 'starting', note: text(job.delivery?.locale, 'card.moved') });
      case 'preview':
        this.#previews.set(job.id, {
          name: `preview.${event.mimeType === 'image/png' ? 'png' : 'jpg'}`,
          data: event.bytes,
          contentType: event.mimeType,
        });
        return undefined;
      case 'progress':
        return show({
          phase: 'running',
          value: event.value,
          max: event.max,
          elapsedMs: event.elapsedMs,
          preview: this.#previews.get(job.id),
        });
      case 'succeeded':
        return this.#deliverResult(job, detailsOf(job), event.files, event.durationMs);
      case 'failed':
        return this.#deliverEnd(
          job,
          detailsOf(job),
          { phase: 'failed', sentence: sentenceFor(event.error, job.delivery?.locale) },
          { status: 'failed', reason: event.error.userMessage },
        );
      case 'cancelled':
        return this.#deliverEnd(job, detailsOf(job), { phase: 'cancelled' }, { status: 'cancelled' });
    }
  };

  async #deliverResult(
    job: JobRecord,
    details: CardDetails,
    files: readonly JobFile[],
    durationMs: number,
  ): Promise<void> {
    const { journal, sessionOpener, fault } = this.#options;
    const limit = job.delivery?.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT;
    const { texts, attached } = textsOnCard(files);
    const fitted = await fitAttachments(
      attached.map((file) => ({ name: file.filename, data: file.bytes, contentType: file.mimeType })),
      limit,
      { locale: details.locale },
    );
    // The job id doubles as the generation id: a result delivered again after a restart overwrites, never duplicates.
    const generationId = job.id;
    const refine = refineOnCard(job, this.#options.ignorePrefix);
    const { files: cardFiles, notes: capped } = withinMessageLimit(fitted.files, details.locale);
    const notes = [...fitted.notes, ...capped, ...refine.notes];
    const done = (cardFiles: CardFile[], lines: string[]) =>
      renderCard(job.id, details, {
        phase: 'done',
        files: cardFiles,
        texts,
        durationMs,
        notes: lines,
        generationId,
        refineHelp: refine.refineHelp,
        threadButton: refine.threadButton,
      });
    const card: FinalCard = {
      full: done(cardFiles, notes),
      // Said when Discord would not take the files (too large, or no permission to attach files).
      withoutFiles: cardFiles.length > 0 ? done([], [...notes, text(details.locale, 'note.notAttached')]) : undefined,
    };
    // The card's buttons and replies work from now on: the session (store only, no Discord call) and the generation
    // are recorded right after the post, so a Reroll pressed or a reply sent at once finds them.
    const recordGeneration = async (posted: PostedCard | undefined) => {
      const sessionId = posted ? await sessionOpener.open(job, posted) : job.sessionId;
      fault('delivery:after-session');
      await this.#record(job, posted, generationId, sessionId, { status: 'succeeded' }, durationMs, files);
      fault('delivery:after-generation');
      return { recordedSession: sessionId ?? null };
    };
    const { posted, record } = await this.#post(job, card, recordGeneration);
    // Recorded with the post unless the bot died in between. A record of an earlier version may say "recorded without a
    // session" for a posted result whose session that version opened later: recorded again, with its session.
    const stale = record.recordedSession === null && posted !== undefined;
    if (record.recordedSession === undefined || stale) {
      await journal.write(job.id, record, await recordGeneration(posted));
    }
  }

  async #deliverEnd(job: JobRecord, details: CardDetails, state: CardState, outcome: GenerationOutcome): Promise<void> {
    const durationMs = (job.finishedAt ?? Date.now()) - job.createdAt;
    const recordGeneration = async (posted: PostedCard | undefined) => {
      await this.#record(job, posted, job.id, job.sessionId, outcome, durationMs, []);
      this.#options.fault('delivery:after-generation');
      return { recordedSession: job.sessionId ?? null };
    };
    const card = { full: renderCard(job.id, details, state), withoutFiles: undefined };
    const { posted, record } = await this.#post(job, card, recordGeneration);
    if (record.recordedSession === undefined) {
      await this.#options.journal.write(job.id, record, await recordGeneration(posted));
    }
  }

  /** Ends the card's progress edits and posts its final state, once (see final-post.ts). */
  async #post(
    job: JobRecord,
    card: FinalCard,
    onPosted: OnPosted,
  ): Promise<{ posted: PostedCard | undefined; record: DeliveryRecord }> {
    this.#previews.delete(job.id);
    const { messageId } = await this.#options.cards.settle(job.id);
    const record = await this.#options.journal.open(job.id);
    return this.#options.poster.post(job.id, cardTargetOf(job)!, card, record, onPosted, messageId);
  }

  async #record(
    job: JobRecord,
    posted: PostedCard | undefined,
    generationId: string,
    sessionId: string | undefined,
    outcome: GenerationOutcome,
    durationMs: number,
    files: readonly JobFile[],
  ): Promise<void> {
    await this.#options.sessions.recordGeneration({
      id: generationId,
      sessionId,
      ownerId: job.memberId,
      guildId: job.guildId,
      promptIds: [job.promptId],
      settings: recordedSettings(job),
      workflow: job.workflow,
      outputs: files.map((file) => {
        const ref = job.outputs.find((output) => output.filename === file.filename);
        return {
          server: job.server ?? 'unknown',
          filename: file.filename,
          subfolder: ref?.subfolder ?? '',
          type: ref?.type ?? 'output',
          mimeType: file.mimeType,
        };
      }),
      messageId: posted?.messageId,
      channelId: posted?.channelId,
      durationMs: Math.max(0, Math.round(durationMs)),
      outcome,
    });
  }
}

/** Discord takes at most 10 attachments on one message. */
const MAX_ATTACHMENTS = 10;

/** The first 10 files, and a sentence for those left out (a workflow's batch can be larger than Discord takes). */
function withinMessageLimit(
  files: readonly CardFile[],
  locale: string | undefined,
): { files: CardFile[]; notes: string[] } {
  if (files.length <= MAX_ATTACHMENTS) return { files: [...files], notes: [] };
  const left = files.length - MAX_ATTACHMENTS;
  const params = { count: left, most: MAX_ATTACHMENTS };
  return {
    files: files.slice(0, MAX_ATTACHMENTS),
    notes: [text(locale, left === 1 ? 'note.oneFileLeftOut' : 'note.filesLeftOut', params)],
  };
}

/** At most this many texts are shown on the card (within Discord's 4,000 characters of text); more are attached. */
const MAX_TEXTS_SHOWN = 3;

/**
 * Splits a result into the texts shown on the card and the files attached to it. A text too long for the card,
 * or beyond the first few, is attached as a `.txt` file as well, so nothing the workflow said is lost.
 */
export function textsOnCard(files: readonly JobFile[]): { texts: CardText[]; attached: JobFile[] } {
  const all = files.filter((file) => file.text !== undefined);
  const shown = all.slice(0, MAX_TEXTS_SHOWN);
  const texts = shown.map((file, index) => ({
    label: all.length > 1 ? `Text ${index + 1}` : 'Text',
    text: file.text!,
  }));
  const attached = files.filter(
    (file) => file.text === undefined || !shown.includes(file) || file.text.trim().length > TEXT_FIELD_LIMIT,
  );
  return { texts, attached };
}

/** What the card says of the generation: the member's settings, overlaid with the values the binding actually used. */
export function detailsOf(job: JobRecord): CardDetails {
  const applied = appliedSettings(job);
  const settings = { ...job.settings, ...applied };
  return {
    prompt: settings.prompt,
    negative: settings.negative,
    workflow: job.workflow,
    seed: settings.seed,
    width: settings.width,
    height: settings.height,
    count: settings.count,
    model: job.settings.checkpoint,
    loras: appliedLoras(job) ?? settings.loras,
    defaultsApplied: job.delivery?.defaultsApplied,
    locale: job.delivery?.locale,
  };
}

/** The LoRAs the binding applied, with the weights it used. */
function appliedLoras(job: JobRecord): CardDetails['loras'] {
  const loras = job.applied['loras'];
  if (!Array.isArray(loras)) return undefined;
  return loras.filter(
    (lora): lora is { name: string; weight: number } =>
      typeof lora === 'object' && lora !== null && typeof (lora as { name?: unknown }).name === 'string',
  );
}

/**
 * The settings a generation is recorded with, for rerolls and refines: the member's, with the values the binding chose
 * (the seed above all). A size derived from an aspect ratio is left out: bound again beside that ratio, it would clash.
 */
function recordedSettings(job: JobRecord): JobRecord['settings'] {
  const settings = { ...job.settings, ...appliedSettings(job) };
  if (job.settings.aspect === undefined) return settings;
  const { width: _width, height: _height, ...sized } = settings;
  return sized;
}

/** The values the runner's binding used that matter to a member (the seed above all). */
function appliedSettings(job: JobRecord): Partial<JobRecord['settings']> {
  const applied = job.applied;
  const pick = <T>(key: string, check: (value: unknown) => value is T): T | undefined =>
    check(applied[key]) ? (applied[key] as T) : undefined;
  const isNumber = (value: unknown): value is number => typeof value === 'number';
  const isString = (value: unknown): value is string => typeof value === 'string';
  const values = {
    seed: pick('seed', isNumber),
    width: pick('width', isNumber),
    height: pick('height', isNumber),
    count: pick('count', isNumber),
    steps: pick('steps', isNumber),
    cfg: pick('cfg', isNumber),
    denoise: pick('denoise', isNumber),
    negative: pick('negative', isString),
    checkpoint: pick('checkpoint', isString),
  };
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}
