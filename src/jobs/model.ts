/**
 * The job: one generation a member asked for, from the moment it is queued until its result is delivered. The record
 * is persisted at every step (zod-validated when read back), so a restarted bot knows exactly where each job was.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { newPromptId as newComfyPromptId } from '../comfy/prompt-id.js';
import { generationSettingsSchema } from '../workflows/settings.js';

/** Where a job is. `waiting` is in the bot's queue; `submitted` is on a server's queue; `running` is executing. */
export const jobStateSchema = z.enum(['waiting', 'submitted', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobState = z.infer<typeof jobStateSchema>;

/** The states a job never leaves. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

/** True once a job has finished, one way or another. */
export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** An image given for image-to-image: a file under the data directory, uploaded to the server that runs the job. */
export const inputImageSchema = z.object({
  path: z.string().min(1),
  filename: z.string().min(1),
});
export type InputImage = z.infer<typeof inputImageSchema>;

/**
 * How the Discord layer reaches the member again (the interaction webhook while its token lives, the channel after).
 * Opaque to the job layer: stored and handed back, never interpreted.
 */
export const deliveryInfoSchema = z.object({
  /** Present when the job came from an interaction (a slash command, a button, a modal). */
  applicationId: z.string().optional(),
  interactionToken: z.string().optional(),
  /** Milliseconds since the epoch after which the token no longer works (Discord: 15 minutes); 0 without a token. */
  tokenExpiresAt: z.number(),
  /** The bot's own status message, for jobs started by a message (a reply to a result, or one in a session thread). */
  statusMessageId: z.string().optional(),
  channelId: z.string(),
  // The Discord layer's own notes, kept with the job so a restarted bot renders the card the same way.
  attachmentSizeLimit: z.number().int().positive().optional(),
  defaultsApplied: z.array(z.string()).optional(),
  /** Whether threads may be started where the card is: it then offers "Refine in thread" (session-opener.ts). */
  threads: z.boolean().optional(),
  /** Only the interaction's webhook reaches the channel (a user install where the bot is not): no replies, no posts. */
  webhookOnly: z.boolean().optional(),
  /** The member's Discord language (the interaction's `locale`): the card speaks it where it is translated. */
  locale: z.string().optional(),
});
export type DeliveryInfo = z.infer<typeof deliveryInfoSchema>;

/** A file a ComfyUI output node wrote, as named in the `executed` event and the history. */
export const outputRefSchema = z.object({
  node: z.string(),
  filename: z.string(),
  subfolder: z.string(),
  type: z.string(),
  mimeType: z.string().optional(),
  /** A text output (`type` is then `text`): its words, kept with the job since there is nothing to download. */
  text: z.string().optional(),
});
export type OutputRef = z.infer<typeof outputRefSchema>;

/** A finished job's file kept on disk until the job is delivered (see result-files.ts). */
export const keptFileSchema = z.object({
  /** The file's name in the job's folder. */
  file: z.string().regex(/^[\w.-]+$/),
  filename: z.string(),
  mimeType: z.string(),
  node: z.string(),
});
export type KeptFile = z.infer<typeof keptFileSchema>;

/** A catalogue sentence as stored: its key and the values of its placeholders (a value may be a phrase of its own). */
export interface StoredSentence {
  readonly key: string;
  readonly params?: Readonly<Record<string, string | number | StoredSentence>> | undefined;
}

export const storedSentenceSchema: z.ZodType<StoredSentence> = z.object({
  key: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.lazy(() => storedSentenceSchema)])).optional(),
});

/**
 * Why a job failed: a stable identifier for logs and metrics, and the sentence the member reads. `message` is the
 * English text (logs, the web API, and all a record of an older release has); `sentences` (or `params`, the values of
 * the catalogue's `error.<identifier>` text) let whichever process tells the member, after a restart or a hand-off,
 * say it in the member's language.
 */
export const jobFailureSchema = z.object({
  identifier: z.string(),
  message: z.string(),
  sentences: z.array(storedSentenceSchema).optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});
export type JobFailure = z.infer<typeof jobFailureSchema>;

/** The persisted job. Timestamps are milliseconds since the epoch. */
/** A prompt of an earlier attempt, left on its server: to be cancelled there. */
export const orphanedPromptSchema = z.object({ server: z.string().min(1), promptId: z.string().min(1) });
export type OrphanedPrompt = z.infer<typeof orphanedPromptSchema>;

/** True when both name the same prompt on the same server. */
export function sameOrphan(a: OrphanedPrompt, b: OrphanedPrompt): boolean {
  return a.server === b.server && a.promptId === b.promptId;
}

export const jobRecordSchema = z.object({
  id: z.string().regex(/^[\w-]+$/),
  memberId: z.string(),
  guildId: z.string().optional(),
  channelId: z.string(),
  sessionId: z.string().optional(),
  workflow: z.string(),
  settings: generationSettingsSchema,
  /** The ComfyUI API-format graph with the settings bound into it. */
  graph: z.record(z.string(), z.unknown()),
  /** The values the binding actually used (the seed above all), for the card and for rerolls. */
  applied: z.record(z.string(), z.unknown()),
  inputImage: inputImageSchema.optional(),
  delivery: deliveryInfoSchema.optional(),
  state: jobStateSchema,
  /** Queue order across restarts: lower first. */
  sequence: z.number().int(),
  server: z.string().optional(),
  /** Generated before submission and persisted first, so a restarted bot can find the prompt on its server. */
  promptId: z.string(),
  /**
   * The ComfyUI client id the prompt was submitted under: the server sends its progress only to that id's socket, so
   * a process that takes the job over from another (a fleet) listens under it to keep the card's progress moving.
   */
  clientId: z.string().optional(),
  /** How many times the job was handed to a server. */
  attempts: z.number().int().min(0),
  /** How many times a job that had started was moved to another server (at most once). */
  moves: z.number().int().min(0),
  /** The server a started job was taken from, until it is submitted again (for the `moved` event). */
  movedFrom: z.string().optional(),
  /**
   * Prompts of earlier attempts left on a server the bot gave up on (marked down, the job moved elsewhere): each is
   * cancelled there once the server answers, and removed from this list then, so a restart still cleans them up.
   */
  orphanedPrompts: z.array(orphanedPromptSchema).optional(),
  /** The output nodes of the workflow this attempt runs (a fallback has its own); their files are posted. */
  outputNodes: z.array(z.string()).optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  submittedAt: z.number().optional(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  /** Set once every listener confirmed the terminal event; a job without it is delivered again after a restart. */
  deliveredAt: z.number().optional(),
  deliveryAttempts: z.number().int().min(0),
  failure: jobFailureSchema.optional(),
  outputs: z.array(outputRefSchema),
  /** A succeeded job's files, kept under the data directory until it is delivered; absent when none were kept. */
  keptFiles: z.array(keptFileSchema).optional(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** What the Discord layer asks for; the runner binds the workflow and fills in the rest. */
export interface JobRequest {
  /**
   * The job's id when the caller chose it (the web face writes its own record under it before enqueueing, so a crash
   * in between leaves a record to finish, not a job nobody knows of); a fresh one otherwise.
   */
  readonly id?: string | undefined;
  readonly memberId: string;
  readonly guildId?: string | undefined;
  readonly channelId: string;
  readonly sessionId?: string | undefined;
  /** The settings as the member gave them; `settings.workflow` or the default workflow is run. */
  readonly settings: z.input<typeof generationSettingsSchema>;
  readonly inputImage?: InputImage | undefined;
  readonly delivery?: DeliveryInfo | undefined;
}

/** What binding a request produced, as the new record stores it. */
export interface BoundSettings {
  readonly workflow: string;
  readonly settings: JobRecord['settings'];
  readonly graph: JobRecord['graph'];
  readonly applied: JobRecord['applied'];
}

/** A new waiting job for a request whose settings were bound; `sequence` orders it in the queue. */
export function createJobRecord(request: JobRequest, bound: BoundSettings, sequence: number): JobRecord {
  const now = Date.now();
  return {
    id: request.id ?? newJobId(),
    memberId: request.memberId,
    guildId: request.guildId,
    channelId: request.channelId,
    sessionId: request.sessionId,
    workflow: bound.workflow,
    settings: bound.settings,
    graph: bound.graph,
    applied: { ...bound.applied },
    inputImage: request.inputImage,
    delivery: request.delivery,
    state: 'waiting',
    sequence,
    promptId: newPromptId(),
    attempts: 0,
    moves: 0,
    createdAt: now,
    updatedAt: now,
    deliveryAttempts: 0,
    outputs: [],
  };
}

/** A short, url-safe, random job id (12 characters, 72 bits): fits in a button's custom id. */
export function newJobId(): string {
  return randomBytes(9).toString('base64url');
}

/** A fresh ComfyUI prompt id, a canonical lowercase UUID (the only form current ComfyUI accepts). */
export function newPromptId(): string {
  return newComfyPromptId();
}
