/**
 * Prompts left behind on a server the bot gave up on. A server marked down may only have flapped (a slow health
 * check, a network blip) and still be rendering the prompts of jobs that now run elsewhere, spending its GPU twice.
 * Each such prompt is cancelled on that server — at once when it still answers, else as soon as it is up again — by
 * its exact prompt id (the client dequeues it if pending, interrupts it if it is the one running, and leaves anything
 * else alone). Until then it stays recorded in its job, so a restart still cleans it up.
 */
import type { ComfyServer } from '../comfy/index.js';
import type { Logger } from '../logger.js';
import { sameOrphan, type OrphanedPrompt } from './model.js';

/** A prompt to cancel, and the job that records it. */
export interface Orphan extends OrphanedPrompt {
  readonly jobId: string;
}

/** What the cleaner needs from the runner. */
export interface OrphanedPromptsOptions {
  /** The server's current client (undefined when it is not configured any more). */
  client(server: string): ComfyServer | undefined;
  /** Removes a cancelled prompt from its job's record. */
  forget(orphan: Orphan): Promise<void>;
  readonly logger: Logger;
}

/** Cancels orphaned prompts on their servers. */
export class OrphanedPrompts {
  readonly #pending: Orphan[] = [];
  readonly #cancelling = new Set<Orphan>();
  #stopped = false;

  constructor(private readonly options: OrphanedPromptsOptions) {}

  /** Records a prompt to cancel and tries at once (after the current turn: the pool may be replacing the client). */
  add(orphan: Orphan): void {
    if (this.#pending.some((known) => sameOrphan(known, orphan))) return;
    this.#pending.push(orphan);
    setImmediate(() => void this.#cancel(orphan));
  }

  /** The server answers again: cancel what was left on it. */
  serverUp(server: string): void {
    for (const orphan of this.#pending.filter((candidate) => candidate.server === server)) void this.#cancel(orphan);
  }

  /** How many prompts wait to be cancelled. */
  get size(): number {
    return this.#pending.length;
  }

  /** Stops trying (the bot is stopping; the records stay for the next start). */
  stop(): void {
    this.#stopped = true;
  }

  async #cancel(orphan: Orphan): Promise<void> {
    if (this.#stopped || this.#cancelling.has(orphan) || !this.#pending.includes(orphan)) return;
    const client = this.options.client(orphan.server);
    const logger = this.options.logger.child({ jobId: orphan.jobId, server: orphan.server, promptId: orphan.promptId });
    if (client === undefined) return this.#drop(orphan, logger, 'its server is no longer configured');
    this.#cancelling.add(orphan);
    try {
      await client.cancel(orphan.promptId);
      this.#drop(orphan, logger, 'cancelled on its server (or no longer there)');
    } catch (error) {
      // Unreachable or confused: it stays pending, and the next time the server is up it is tried again.
      logger.debug({ err: error }, 'could not cancel an orphaned prompt yet');
    } finally {
      this.#cancelling.delete(orphan);
    }
  }

  #drop(orphan: Orphan, logger: Logger, outcome: string): void {
    const index = this.#pending.indexOf(orphan);
    if (index >= 0) this.#pending.splice(index, 1);
    logger.info(`orphaned prompt ${outcome}`);
    this.options.forget(orphan).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not remove a cancelled orphaned prompt from its job; the next start retries');
    });
  }
}
