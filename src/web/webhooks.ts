/**
 * Webhooks, the Standard Webhooks way (standardwebhooks.com): each message carries `webhook-id` (the same on every
 * retry, so a receiver can drop repeats), `webhook-timestamp` (seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's bytes). Messages are written to the store before
 * the first try and removed only once a receiver answered 2xx, so a restart resumes them; failures are retried with a
 * growing pause, then given up (logged).
 *
 * In a fleet the store is the outbox of every process: a message left by a process that died is sent by another (the
 * dispatcher's pass over what dead processes left calls `resume()`), and each try is made under a lease in the store,
 * so two processes that both have a message scheduled send it once: the one holding the lease reads the message again,
 * and finds it gone (sent), not yet due (tried, and its next try moved), or due (sends it).
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { Agent, fetch } from 'undici';
import { z } from 'zod';
import type { FaultPoint } from '../fault-point.js';
import type { Logger } from '../logger.js';
import type { Collection, Index, Store } from '../store/store.js';
import { thisProcess } from '../store/runner-lease.js';
import type { AddressGuard } from './webhook-addresses.js';
import type { WebhookPolicy } from './webhook-policy.js';

/** The pauses before each retry; after the last, the message is given up. About a day in all. */
export const DEFAULT_WEBHOOK_BACKOFF_MS: readonly number[] = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000,
];

const messageSchema = z.object({
  id: z.string().min(1),
  url: z.string().min(1),
  body: z.string(),
  /** Tries so far. */
  attempts: z.number().int().min(0),
  /** When to try next (milliseconds since the epoch). */
  nextAt: z.number(),
});
type WebhookMessage = z.infer<typeof messageSchema>;

const PENDING = 'all';

/** How long one try holds its message: longer than a try takes (the receiver's timeout, then the bookkeeping). */
const TRY_LEASE_MS = 30_000;
const tryLease = (id: string) => `web-webhook:${id}`;

/** The signature header's value for one message. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface WebhookSenderOptions {
  readonly store: Store;
  readonly secret: string | undefined;
  /** The operator's list, checked again before every try: a URL no longer listed is dropped. */
  readonly policy: Pick<WebhookPolicy, 'unlisted'>;
  /** Judges the addresses each try connects to (the connection's own lookup, so what is checked is what is used). */
  readonly guard: AddressGuard;
  readonly logger: Logger;
  readonly backoffMs?: readonly number[];
  /** How long a receiver may take to answer. Default 10 s. */
  readonly timeoutMs?: number;
  /** Where a crash test has the process kill itself (src/fault-point.ts). */
  readonly fault?: FaultPoint;
  /**
   * Whether each try is leased in the store: when several processes share it (Redis, a fleet; the default there).
   * One process alone on its store (SQLite) needs no lease, and a restart after a crash resends at once.
   */
  readonly leased?: boolean;
}

/** Sends webhook messages until they are received or given up. */
export class WebhookSender {
  readonly #messages: Collection<WebhookMessage>;
  readonly #pending: Index;
  readonly #options: WebhookSenderOptions;
  readonly #backoff: readonly number[];
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #sending = new Set<Promise<void>>();
  /** Messages being tried here now. */
  readonly #trying = new Set<string>();
  readonly #holder = thisProcess();
  readonly #dispatcher: Agent;
  #stopped = false;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    this.#messages = options.store.collection('web-webhooks', messageSchema, { version: 1 });
    this.#pending = options.store.index('web-webhooks-pending');
    this.#backoff = options.backoffMs ?? DEFAULT_WEBHOOK_BACKOFF_MS;
    this.#dispatcher = new Agent({ connect: { lookup: options.guard.lookup } });
  }

  /** Schedules every unsent message not scheduled here already: left by a previous run, or by a process that died. */
  async resume(): Promise<void> {
    for (const id of await this.#pending.list(PENDING)) {
      if (this.#timers.has(id) || this.#trying.has(id)) continue;
      const message = await this.#messages.get(id);
      if (message === undefined) await this.#pending.remove(PENDING, id);
      else this.#schedule(message);
    }
  }

  /**
   * Persists a message and schedules its first try. `id` names the event (the same after a restart's redelivery),
   * so an event delivered twice is still one message.
   */
  async enqueue(id: string, url: string, payload: unknown): Promise<void> {
    const created = { id, url, body: JSON.stringify(payload), attempts: 0, nextAt: Date.now() };
    const message = await this.#messages.update(id, (current) => current ?? created);
    await this.#pending.add(PENDING, id);
    if (!this.#timers.has(id)) this.#schedule(message!);
  }

  /** Cancels the timers and waits for tries under way; unsent messages wait in the store for the next start. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    while (this.#sending.size > 0) await Promise.allSettled([...this.#sending]);
    await this.#dispatcher.close();
  }

  #schedule(message: WebhookMessage): void {
    if (this.#stopped) return;
    clearTimeout(this.#timers.get(message.id));
    const timer = setTimeout(
      () => {
        this.#timers.delete(message.id);
        const sending = this.#tryHeld(message.id).catch((error: unknown) =>
          this.#options.logger.error({ err: error, webhook: message.id }, 'webhook bookkeeping failed'),
        );
        this.#sending.add(sending);
        void sending.finally(() => this.#sending.delete(sending));
      },
      Math.max(0, message.nextAt - Date.now()),
    );
    timer.unref();
    this.#timers.set(message.id, timer);
  }

  /** Tries the message under its lease, as the store has it now (another process may have sent or tried it). */
  async #tryHeld(id: string): Promise<void> {
    // Scheduled again while a try of it is under way here (its event delivered again): that try sees to it.
    if (this.#trying.has(id)) return;
    if (!(this.#options.leased ?? this.#options.store.kind === 'redis')) {
      const message = await this.#messages.get(id);
      return message === undefined ? undefined : this.#try(message);
    }
    const { leases } = this.#options.store;
    const claim = await leases.claim(tryLease(id), this.#holder, TRY_LEASE_MS);
    if (!claim.acquired) {
      // Another process tries it now: looked at again once its try is over (or its process is gone).
      const message = await this.#messages.get(id);
      if (message !== undefined) this.#schedule({ ...message, nextAt: Math.max(message.nextAt, claim.expiresAt) });
      return;
    }
    this.#trying.add(id);
    try {
      const message = await this.#messages.get(id);
      if (message === undefined) return;
      if (message.nextAt > Date.now()) return this.#schedule(message);
      await this.#try(message);
    } finally {
      this.#trying.delete(id);
      await leases.release(tryLease(id), this.#holder.id).catch(() => undefined);
    }
  }

  async #try(message: WebhookMessage): Promise<void> {
    const { logger } = this.#options;
    const refusal = this.#options.policy.unlisted(message.url);
    if (refusal !== undefined) {
      logger.warn({ webhook: message.id, reason: refusal }, 'dropping a webhook the configuration no longer allows');
      return this.#forget(message.id);
    }
    this.#options.fault?.('web:before-webhook');
    const outcome = await this.#post(message);
    if (outcome === 'received') return this.#forget(message.id);
    const attempts = message.attempts + 1;
    const pause = this.#backoff[attempts - 1];
    if (pause === undefined) {
      logger.error({ webhook: message.id, attempts, outcome }, 'giving up a webhook: its receiver never took it');
      return this.#forget(message.id);
    }
    logger.warn({ webhook: message.id, attempts, outcome, retryInMs: pause }, 'webhook not received; will retry');
    const next = { ...message, attempts, nextAt: Date.now() + pause };
    await this.#messages.set(message.id, next);
    this.#schedule(next);
  }

  /** Sends one try; 'received' on a 2xx, else what went wrong (for the log). */
  async #post(message: WebhookMessage): Promise<string> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      // An address literal is connected to without a lookup: it is checked here instead.
      const literal = new URL(message.url).hostname.replace(/^\[|\]$/g, '');
      if (isIP(literal) !== 0 && !this.#options.guard.permits(literal))
        return `${literal} is not an address webhooks may reach`;
      const response = await fetch(message.url, {
        dispatcher: this.#dispatcher,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'comfycord-webhooks',
          'webhook-id': message.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(this.#options.secret ?? '', message.id, timestamp, message.body),
        },
        body: message.body,
        // A redirect could lead anywhere, past the allow-list: it counts as a failure.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? 'received' : `HTTP ${response.status}`;
    } catch (error) {
      return String(error);
    }
  }

  async #forget(id: string): Promise<void> {
    await this.#messages.delete(id);
    await this.#pending.remove(PENDING, id);
  }
}
