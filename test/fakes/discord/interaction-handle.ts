/**
 * What a test holds after acting as a member: the interaction it sent, and ways to await the bot's answer — the
 * callback, the original response in its current state, the edits to it, followups, a modal or autocomplete choices.
 */
import { InteractionResponseType, MessageFlags } from 'discord.js';
import type { CallLog, RecordedCall } from './call-log.js';
import type { ChangeSignal } from './change-signal.js';
import type { InteractionCallback, InteractionRecord } from './interaction-registry.js';
import type { FakeMessage } from './model.js';
import type { FakeState } from './state.js';

/** A predicate over a message's current state. */
export type MessagePredicate = (message: FakeMessage) => boolean;

const DEFAULT_TIMEOUT_MS = 5000;
const WEBHOOK_MESSAGE_ROUTE = '/webhooks/:applicationId/:token/messages/:messageId';

/** An interaction sent to the bot, with helpers to await what the bot does with it. */
export class InteractionHandle {
  constructor(
    /** The fake's record of the interaction (payload, token, callback...). */
    readonly record: InteractionRecord,
    private readonly state: FakeState,
    private readonly callLog: CallLog,
    private readonly signal: ChangeSignal,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get token(): string {
    return this.record.token;
  }

  /** The INTERACTION_CREATE payload as dispatched. */
  get payload(): Record<string, unknown> {
    return this.record.payload;
  }

  /** The bot's callback, once it came. */
  get callback(): InteractionCallback | null {
    return this.record.callback;
  }

  /** The original response message (or, for a component, the message it sits on) in its current state. */
  get original(): FakeMessage | null {
    const id = this.record.originalMessageId;
    return id && this.record.callback ? (this.state.messages.get(id) ?? null) : null;
  }

  /** Followup messages in their current state, oldest first. */
  get followups(): FakeMessage[] {
    return this.record.followupIds.flatMap((id) => this.state.messages.get(id) ?? []);
  }

  /** Every REST call made with this interaction's token (its callback and webhook calls). */
  get calls(): readonly RecordedCall[] {
    return this.callLog.withToken(this.token);
  }

  /** PATCH calls that edited the original response, in order. */
  get edits(): RecordedCall[] {
    return this.calls.filter(
      (c) =>
        c.method === 'PATCH' &&
        c.route === WEBHOOK_MESSAGE_ROUTE &&
        (c.params.messageId === '@original' || c.params.messageId === this.record.originalMessageId),
    );
  }

  /** Resolves with the callback (any type). */
  waitForCallback(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<InteractionCallback> {
    return this.signal.until(
      () => this.record.callback ?? undefined,
      timeoutMs,
      () =>
        `the callback of interaction ${this.id} (delivered to ${this.record.deliveredTo} connected bot ` +
        `session(s)); its calls so far:\n${this.callSummary()}`,
    );
  }

  /**
   * Resolves with the original response once it exists, is no longer "thinking" (deferred and not yet edited),
   * and satisfies `predicate`.
   */
  waitForOriginal(predicate: MessagePredicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<FakeMessage> {
    return this.signal.until(
      () => {
        const message = this.original;
        const ready = message && (message.flags & MessageFlags.Loading) === 0 && predicate(message);
        return ready ? message : undefined;
      },
      timeoutMs,
      () => `the original response of interaction ${this.id} to match; it is ${describe(this.original)}`,
    );
  }

  /** Resolves with the n-th edit call (1-based) of the original response. */
  waitForEdit(count = 1, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RecordedCall> {
    return this.signal.until(
      () => this.edits[count - 1],
      timeoutMs,
      () => `edit #${count} of interaction ${this.id}'s response; ${this.edits.length} so far`,
    );
  }

  /** Resolves with the first followup (in its current state) matching `predicate`. */
  waitForFollowup(predicate: MessagePredicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<FakeMessage> {
    return this.signal.until(
      () => this.followups.find(predicate),
      timeoutMs,
      () => `a matching followup of interaction ${this.id}; ${this.followups.length} so far`,
    );
  }

  /** Resolves with the modal the bot showed (callback type 9). */
  async waitForModal(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Record<string, unknown>> {
    const callback = await this.waitForCallback(timeoutMs);
    if (callback.type !== InteractionResponseType.Modal || !callback.data) {
      throw new Error(`interaction ${this.id} was answered with callback type ${callback.type}, not a modal`);
    }
    return callback.data;
  }

  /** Resolves with the autocomplete choices the bot offered (callback type 8). */
  async waitForChoices(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ name: string; value: string | number }[]> {
    const callback = await this.waitForCallback(timeoutMs);
    if (callback.type !== InteractionResponseType.ApplicationCommandAutocompleteResult) {
      throw new Error(`interaction ${this.id} was answered with callback type ${callback.type}, not choices`);
    }
    return (callback.data?.choices ?? []) as { name: string; value: string | number }[];
  }

  private callSummary(): string {
    const mine = this.calls;
    return mine.length === 0 ? '  (none)' : mine.map((c) => `  ${c.method} ${c.path} -> ${c.status}`).join('\n');
  }
}

function describe(message: FakeMessage | null): string {
  if (!message) return 'not there';
  const loading = (message.flags & MessageFlags.Loading) !== 0 ? ' (still thinking)' : '';
  return `${JSON.stringify(message.content)} with ${message.attachments.length} attachment(s)${loading}`;
}
