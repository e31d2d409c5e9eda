/**
 * What a session and a generation are, as stored. A session is the chain of replies to a result message, and the
 * threads members open on its results; every reply in it refines its last generation.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { generationSettingsSchema } from '../workflows/settings.js';

/** Generation ids: short and URL-safe, so `reroll:<id>` fits easily in a button's 100-character custom id. */
export const GENERATION_ID_PATTERN = /^[A-Za-z0-9_-]{6,32}$/;

/** A fresh generation id (12 characters, 72 random bits). */
export function newGenerationId(): string {
  return randomBytes(9).toString('base64url');
}

const snowflake = z.string().regex(/^\d{1,20}$/);

/** One file a generation produced, and where to fetch it again from ComfyUI. */
export const outputFileSchema = z.object({
  /** The name of the ComfyUI server (as configured) that holds the file. */
  server: z.string().min(1),
  filename: z.string().min(1),
  subfolder: z.string(),
  /** ComfyUI's folder type: `output`, `temp` or `input`. */
  type: z.string().min(1),
  mimeType: z.string().min(1),
});
export type OutputFile = z.infer<typeof outputFileSchema>;

/** How a generation ended; `reason` is the sentence the member was shown. */
export const generationOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('succeeded') }),
  z.object({ status: z.literal('failed'), reason: z.string() }),
  z.object({ status: z.literal('cancelled'), reason: z.string().optional() }),
]);
export type GenerationOutcome = z.infer<typeof generationOutcomeSchema>;

/** One finished generation. Timestamps are milliseconds since the epoch. */
export const generationSchema = z.object({
  id: z.string().regex(GENERATION_ID_PATTERN),
  /** The session it belongs to; absent for a generation that never got a result message. */
  sessionId: snowflake.optional(),
  ownerId: snowflake,
  /** Absent in direct messages. */
  guildId: snowflake.optional(),
  /** The ComfyUI prompt id(s) it ran as (more than one when the job was retried on another server). */
  promptIds: z.array(z.string().min(1)),
  /** The settings with the values actually applied, the seed above all: a reroll changes only the seed. */
  settings: generationSettingsSchema,
  workflow: z.string().min(1),
  outputs: z.array(outputFileSchema),
  /** The Discord message that shows the result, and its channel (a thread's id when posted in a thread). */
  messageId: snowflake.optional(),
  channelId: snowflake.optional(),
  durationMs: z.number().int().min(0),
  outcome: generationOutcomeSchema,
  createdAt: z.number().int(),
});
export type Generation = z.infer<typeof generationSchema>;

/** A session: where its replies are read, whose it is, and what the next refine starts from. */
export const sessionSchema = z.object({
  /** The id of its root result message (or, for a `thread` session, of the thread it was opened in). */
  id: snowflake,
  /**
   * `reply-chain` since sessions open no thread until a member asks for one; `thread` for the sessions of earlier
   * versions, which opened a thread on every result.
   */
  kind: z.enum(['thread', 'reply-chain']),
  ownerId: snowflake,
  guildId: snowflake.optional(),
  /** The channel the session lives in: the reply chain's channel (the parent of its threads). */
  channelId: snowflake,
  workflow: z.string().min(1),
  /** The settings of the last successful generation, with the seed it used. */
  settings: generationSettingsSchema,
  lastGenerationId: z.string().regex(GENERATION_ID_PATTERN).optional(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type Session = z.infer<typeof sessionSchema>;

/** A member's defaults from `/settings`, applied under whatever a command or flag says. */
export const memberDefaultsSchema = generationSettingsSchema.pick({
  workflow: true,
  aspect: true,
  negative: true,
  count: true,
  checkpoint: true,
});
export type MemberDefaults = z.infer<typeof memberDefaultsSchema>;

/** Which session and generation a Discord message belongs to, for replies and buttons on it. */
export const messageLinkSchema = z.object({
  sessionId: snowflake.optional(),
  generationId: z.string().regex(GENERATION_ID_PATTERN).optional(),
  /** The bot opened a thread on this message (the thread has the message's id): messages in it refine the session. */
  thread: z.boolean().optional(),
});
export type MessageLink = z.infer<typeof messageLinkSchema>;
