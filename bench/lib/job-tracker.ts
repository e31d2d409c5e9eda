/**
 * Follows many `/imagine` interactions to their end by reading what the fake Discord recorded for each token. It polls
 * only the interactions still open (each scan reads only the calls that came since the last one), so following
 * thousands of jobs costs the parent process little: the fake's own waiters re-check every wait on every change.
 */
import { cardStatus } from '../../src/discord/card-layout.js';
import type { InteractionHandle, RecordedCall } from '../../test/fakes/discord/index.js';

/** How one job ended, by the fake's clock. */
export interface JobEnd {
  readonly handle: InteractionHandle;
  readonly ok: boolean;
  /** The PATCH that put the finished card (with its files) in place; undefined when the job failed. */
  readonly final: RecordedCall | undefined;
  /** When the fake dispatched INTERACTION_CREATE. */
  readonly sentAt: number;
  /** When the fake received the bot's callback (acknowledgement). */
  readonly ackAt: number | undefined;
  /** When the fake received the call that ended the job (or the time out). */
  readonly endAt: number;
  /** Why a failed job failed, as the member saw it. */
  readonly reason?: string;
}

interface Watch {
  readonly handle: InteractionHandle;
  readonly deadline: number;
  scanned: number;
  readonly resolve: (end: JobEnd) => void;
}

const TERMINAL_CONTENT = /^(Done\b|❌|Cancelled)/;

/** Watches interactions until their card shows a terminal state. */
export class JobTracker {
  readonly #open = new Set<Watch>();
  readonly #timer: NodeJS.Timeout;

  constructor(pollMs = 5) {
    this.#timer = setInterval(() => this.#scan(), pollMs);
  }

  /** Resolves when the job's card is finished, failed or cancelled, or after `timeoutMs` (as a failure). */
  follow(handle: InteractionHandle, timeoutMs = 120_000): Promise<JobEnd> {
    return new Promise((resolve) => this.#open.add({ handle, deadline: Date.now() + timeoutMs, scanned: 0, resolve }));
  }

  /** How many jobs are still open. */
  get open(): number {
    return this.#open.size;
  }

  /** Stops polling; open jobs stay unresolved. */
  close(): void {
    clearInterval(this.#timer);
  }

  #scan(): void {
    const now = Date.now();
    for (const watch of this.#open) {
      const end =
        this.#check(watch) ?? (now > watch.deadline ? this.#end(watch, false, undefined, now, 'timed out') : undefined);
      if (!end) continue;
      this.#open.delete(watch);
      watch.resolve(end);
    }
  }

  #check(watch: Watch): JobEnd | undefined {
    const { handle } = watch;
    const callback = handle.record.callback;
    if (callback && callback.type !== 5) {
      return this.#end(
        watch,
        false,
        undefined,
        callback.at,
        contentOf(callback.data) ?? `callback type ${callback.type}`,
      );
    }
    const calls = handle.calls;
    for (; watch.scanned < calls.length; watch.scanned += 1) {
      const call = calls[watch.scanned]!;
      const content = contentOf(call.body);
      if (call.method === 'POST' && call.route?.startsWith('/webhooks/')) {
        // A followup on a deferred /imagine is the router telling the member something went wrong.
        return this.#end(watch, false, undefined, call.receivedAt, content ?? 'a followup');
      }
      if (call.method !== 'PATCH' || content === undefined || !TERMINAL_CONTENT.test(content)) continue;
      const ok = content.startsWith('Done') && call.files.length > 0 && call.status < 300;
      return this.#end(watch, ok, ok ? call : undefined, call.receivedAt, ok ? undefined : content);
    }
    return undefined;
  }

  #end(watch: Watch, ok: boolean, final: RecordedCall | undefined, endAt: number, reason?: string): JobEnd {
    const { handle } = watch;
    return {
      handle,
      ok,
      final,
      sentAt: handle.record.createdAt,
      ackAt: handle.record.callback?.at,
      endAt,
      ...(reason === undefined ? {} : { reason }),
    };
  }
}

/** What a body says: its content, or for a card (a Components V2 message, no content) its status sentence. */
function contentOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { content, components } = body as { content?: unknown; components?: unknown };
  if (typeof content === 'string' && content !== '') return content;
  return Array.isArray(components) ? cardStatus(components) || undefined : undefined;
}
