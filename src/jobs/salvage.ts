/**
 * A job whose own record cannot be read after a restart (a damaged row, a write torn by a failing disk) is still
 * listed as open, and its member is still waiting on a card. What can be known apart from the record:
 *
 * - its contact (`job-contacts`, written with the job and when the way to reach the member changes): who asked,
 *   where, through which interaction or status message, and what they asked for — enough to edit the card, or post
 *   in the channel once the token is dead;
 * - its kept result (`data/results/<job id>/manifest.json`, written before the job was recorded as succeeded): when
 *   present, the picture itself;
 * - its prompt id (in the contact): the prompt may still be queued or running on a server, which is not known, so it
 *   is cancelled by that exact id on every configured server (orphaned-prompts.ts; a server that does not have it
 *   leaves it alone);
 * - the Discord face's delivery journal, keyed by the job id: it keeps a card already posted from being posted again.
 *
 * The rebuilt record says "succeeded" (delivered from the kept files) or "failed" with one sentence, is written back
 * so the row reads again, and is delivered like any other finished job. A job with no contact either (written by a
 * release before contacts existed) can only be dropped, with an error in the log.
 */
import type { z } from 'zod';
import { jobRecordSchema, type JobRecord, type KeptFile, type OrphanedPrompt } from './model.js';

/** What a job's contact keeps: the record without its graph and its progress. */
export const jobContactSchema = jobRecordSchema.pick({
  id: true,
  memberId: true,
  guildId: true,
  channelId: true,
  sessionId: true,
  workflow: true,
  settings: true,
  applied: true,
  inputImage: true,
  delivery: true,
  sequence: true,
  promptId: true,
  createdAt: true,
});
export type JobContact = z.infer<typeof jobContactSchema>;

/** The contact of a job record. */
export function contactOf(job: JobRecord): JobContact {
  const { id, memberId, guildId, channelId, sessionId, workflow, settings, applied } = job;
  const { inputImage, delivery, sequence, promptId, createdAt } = job;
  return {
    id,
    memberId,
    guildId,
    channelId,
    sessionId,
    workflow,
    settings,
    applied,
    inputImage,
    delivery,
    sequence,
    promptId,
    createdAt,
  };
}

/** The sentence a member reads when their job's record was lost and no result was kept. */
export const RECORD_LOST_SENTENCE =
  'I lost track of this picture while restarting (its record was damaged); please ask for it again.';

/** Where the rebuilt job stands: its kept files if any, and the servers its prompt may still be on. */
export interface SalvageFacts {
  readonly kept: readonly KeptFile[] | undefined;
  readonly servers: readonly string[];
  readonly now: number;
}

/** Rebuilds a finished job record from its contact and what else is known (see above). */
export function salvageJob(contact: JobContact, facts: SalvageFacts): JobRecord {
  const base: JobRecord = {
    ...contact,
    graph: {},
    attempts: 0,
    moves: 0,
    state: 'failed',
    updatedAt: facts.now,
    finishedAt: facts.now,
    deliveryAttempts: 0,
    outputs: [],
  };
  if (facts.kept !== undefined && facts.kept.length > 0) {
    const outputs = facts.kept.map((file) => ({
      node: file.node,
      filename: file.filename,
      subfolder: '',
      type: 'output',
      mimeType: file.mimeType,
    }));
    return { ...base, state: 'succeeded', keptFiles: [...facts.kept], outputs };
  }
  const orphanedPrompts: OrphanedPrompt[] = facts.servers.map((server) => ({ server, promptId: contact.promptId }));
  return {
    ...base,
    failure: { identifier: 'job-record-lost', message: RECORD_LOST_SENTENCE },
    ...(orphanedPrompts.length > 0 ? { orphanedPrompts } : {}),
  };
}
