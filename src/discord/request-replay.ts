/**
 * Finishing the requests a dead process received and had not yet written as jobs (request-journal.ts). It runs where
 * the job layer takes in its own strays: at start in one process (embedded: every entry was left by the last run),
 * and in a fleet in the dispatcher's passes (JobRunner.onReceivedPass), for entries whose writer's life is over (its
 * process lease gone: process-lives.ts), so a killed process's requests are finished within moments of its death,
 * while a live process's, however slow, are left to it. An entry that names no writer (an earlier release's) is
 * finished once older than the intake's grace (its process may still be working on it until then). Each entry goes
 * through the same function its live handler calls, so a replayed request is planned, kept and queued exactly as it
 * would have been; its job is queued under the entry's id, so an entry finished twice (two passes, or a process taken
 * for dead that was only paused) is one job.
 *
 * - An entry whose job exists was finished: it is removed.
 * - An interaction never acknowledged (the process died between writing it down and deferring): Discord already told
 *   the member "The application did not respond", and its token can no longer answer. It is logged and dropped rather
 *   than turned into a picture nobody is waiting for. Whether it was acknowledged is noted in the entry right after
 *   the deferral; for a kill in between, Discord is asked (the original response of a deferred interaction exists);
 *   once the token has died without the note, it counts as never acknowledged.
 * - A refusal while finishing (a limit, the plan, the image) is told with the same one sentence the member would have
 *   read: through the interaction's original response while its token lives, else in the channel mentioning them
 *   (final-post.ts, journaled and with a nonce, so it is said once); a refine's in reply to the member's message.
 */
import { Routes, type REST } from 'discord.js';
import { finishImagine } from '../commands/imagine.js';
import { isUserFacing, sentenceFor } from '../errors.js';
import { text } from '../i18n/catalog.js';
import type { Logger } from '../logger.js';
import type { ProcessLives } from '../store/process-lives.js';
import type { RetryPause } from '../store/retry-pause.js';
import { finishRerun } from './buttons.js';
import { tokenAlive, type CardTarget } from './card-updater.js';
import { sentenceCard } from './cards.js';
import type { DeliveryJournal } from './delivery-journal.js';
import { codeOf } from './discord-errors.js';
import type { FinalPoster } from './final-post.js';
import { finishRefine, localeOfRefine, refusalNonce, tellRefineRefusal } from './refine-handler.js';
import type { ReceivedInteraction, ReceivedRequest } from './request-journal.js';
import type { BotServices, FinishContext } from './services.js';

/** Discord's "Unknown Message" and "Unknown Webhook": no original response, so the interaction was never answered. */
const NEVER_ANSWERED = new Set([10008, 10015]);

/** What a replay needs: the services and REST managers of the Discord face, and its final poster for refusals. */
export interface ReplayContext {
  readonly services: BotServices;
  readonly rest: REST;
  /** For the interaction webhooks (see `createInteractionRest`). */
  readonly interactionRest: REST;
  readonly poster: FinalPoster;
  readonly deliveries: DeliveryJournal;
  /** Tells whether an entry's writer is alive. */
  readonly lives: ProcessLives;
  /** Entries whose finishing failed wait here before they are tried again (the dispatcher looks every second). */
  readonly retries?: RetryPause;
  readonly logger: Logger;
}

/**
 * Finishes every entry whose writer's life is over, and every one naming no writer received at least `graceMs` ago;
 * resolves with how many were finished or told.
 */
export async function replayReceivedRequests(context: ReplayContext, graceMs: number): Promise<number> {
  let replayed = 0;
  const seen = new Map<string, Promise<boolean>>();
  for (const entry of await context.services.requests.list()) {
    if (context.retries?.waiting(entry.id)) continue;
    const { writer, receivedAt: writtenAt } = entry;
    const left = await context.lives.leftBehind({ writer, writtenAt }, graceMs, seen);
    if (left === false) continue;
    const logger = context.logger.child({
      request: entry.id,
      kind: entry.kind,
      member: entry.memberId,
      // Why now: its writer is known dead, or (naming none) the grace is over.
      takenOver: left,
      writer: writer?.process,
    });
    try {
      if (await replay(context, entry, logger)) replayed += 1;
    } catch (error) {
      // Discord or the store away, or this process stopping: the entry stays for a later pass.
      context.retries?.failed(entry.id);
      logger.warn({ err: error }, 'could not finish a request a stopped process had received; it is tried again');
    }
  }
  return replayed;
}

async function replay(context: ReplayContext, entry: ReceivedRequest, logger: Logger): Promise<boolean> {
  const { requests, jobs } = context.services;
  if ((await jobs.findJob(entry.id)) !== undefined) {
    await requests.remove(entry.id);
    return false;
  }
  if (entry.kind !== 'refine' && !(await wasAcknowledged(context, entry))) {
    // Discord showed the member "The application did not respond" 3 s after they asked; a picture now would be a
    // surprise nobody waits for, and the token can no longer answer.
    logger.warn(
      { interaction: entry.interactionId, receivedAt: entry.receivedAt },
      'dropped a request whose process died before acknowledging it (Discord told the member it did not respond)',
    );
    await requests.remove(entry.id);
    return false;
  }
  const finishing: FinishContext = { services: context.services, rest: context.rest, logger };
  try {
    if (entry.kind === 'imagine') await finishImagine(finishing, entry);
    else if (entry.kind === 'rerun') await finishRerun(finishing, entry);
    else await finishRefine(finishing, entry);
    logger.info('finished a request a stopped process had received but not yet queued');
  } catch (error) {
    // This process is stopping: another (or the next start) finishes the entry.
    if (isUserFacing(error) && error.identifier === 'runner-stopped') throw error;
    await tellRefusal(context, entry, error, logger);
  }
  await requests.remove(entry.id);
  return true;
}

/** Whether the member saw "thinking…": noted after the deferral, else asked of Discord while the token lives. */
async function wasAcknowledged(context: ReplayContext, entry: ReceivedInteraction): Promise<boolean> {
  if (entry.acknowledgedAt !== undefined) return true;
  const target = targetOf(entry);
  if (!tokenAlive(target, Date.now())) return false;
  const route = Routes.webhookMessage(target.applicationId!, target.interactionToken!, '@original');
  try {
    await context.interactionRest.get(route, { auth: false });
    return true;
  } catch (error) {
    if (NEVER_ANSWERED.has(Number(codeOf(error)))) return false;
    throw error;
  }
}

/** Tells the member why their request was refused, with the sentence the live handler would have used. */
async function tellRefusal(
  context: ReplayContext,
  entry: ReceivedRequest,
  error: unknown,
  logger: Logger,
): Promise<void> {
  const locale =
    entry.kind === 'refine'
      ? await localeOfRefine(entry, context.services).catch(() => entry.guildLocale)
      : entry.delivery.locale;
  const sentence = isUserFacing(error) ? sentenceFor(error, locale) : text(locale, 'error.generic');
  if (entry.kind === 'refine') {
    await tellRefineRefusal(context.rest, entry, error, { sentence, logger, nonce: refusalNonce(entry) });
    return;
  }
  if (isUserFacing(error)) logger.info({ err: error, reason: error.identifier }, 'a replayed request was refused');
  else logger.error({ err: error }, 'a replayed request failed');
  const card = { full: sentenceCard(`❌ ${sentence}`), withoutFiles: undefined };
  const record = await context.deliveries.open(entry.id);
  await context.poster.post(entry.id, targetOf(entry), card, record, async () => ({}));
}

/** Where an interaction's answer goes: its original response while the token lives, else the channel. */
function targetOf(entry: ReceivedInteraction): CardTarget {
  const { delivery } = entry;
  return {
    applicationId: delivery.applicationId,
    interactionToken: delivery.interactionToken,
    tokenExpiresAt: delivery.tokenExpiresAt,
    channelId: delivery.channelId,
    memberId: entry.memberId,
    webhookOnly: delivery.webhookOnly === true,
  };
}
