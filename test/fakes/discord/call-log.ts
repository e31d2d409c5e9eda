/**
 * The record of every REST call the bot made: what it sent (with uploaded bytes) and what the fake answered.
 */
import type { ChangeSignal } from './change-signal.js';

/** A file uploaded in a multipart request. */
export interface RecordedFile {
  /** The form field, e.g. `files[0]`. */
  readonly fieldName: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** One REST call and its answer. */
export interface RecordedCall {
  /** 1, 2, 3... in the order the calls arrived. */
  readonly seq: number;
  readonly method: string;
  /** The path after `/api/v10`, percent-decoded: `/webhooks/1/tok/messages/@original`. */
  readonly path: string;
  /** The matched route template, e.g. `/channels/:channelId/messages`; `null` for an unhandled call. */
  readonly route: string | null;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Request headers, lower-cased, without `authorization`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether an `Authorization: Bot <token>` header came with the call (its value is never kept). */
  readonly authorized: boolean;
  /** The JSON body (for multipart: the parsed `payload_json`); `null` when there was none. */
  readonly body: unknown;
  readonly files: readonly RecordedFile[];
  /** `Date.now()` when the request arrived. */
  readonly receivedAt: number;
  readonly status: number;
  /** The JSON the fake answered with (`null` for 204). */
  readonly response: unknown;
  /** True when the answer came from `fake.inject(...)`. */
  readonly injected: boolean;
}

/** A predicate over recorded calls. */
export type CallPredicate = (call: RecordedCall) => boolean;

/** Keeps the calls in arrival order and lets tests wait for them. */
export class CallLog {
  private readonly recorded: RecordedCall[] = [];
  /** Calls by interaction token, so per-interaction helpers stay cheap when there are thousands of calls. */
  private readonly byToken = new Map<string, RecordedCall[]>();
  private nextSeq = 1;

  constructor(private readonly signal: ChangeSignal) {}

  /** Reserves the sequence number of an arriving call. */
  reserveSeq(): number {
    return this.nextSeq++;
  }

  add(call: RecordedCall): void {
    insertInOrder(this.recorded, call);
    const token = call.params.token;
    if (token !== undefined) {
      const list = this.byToken.get(token) ?? [];
      insertInOrder(list, call);
      this.byToken.set(token, list);
    }
    this.signal.notify();
  }

  /** Calls made with an interaction token (callback and webhook routes), in arrival order. */
  withToken(token: string): readonly RecordedCall[] {
    return this.byToken.get(token) ?? [];
  }

  /** Every answered call so far, in arrival order. */
  get all(): readonly RecordedCall[] {
    return [...this.recorded];
  }

  /** Calls no route handled (they got a 404). */
  get unhandled(): readonly RecordedCall[] {
    return this.recorded.filter((call) => call.route === null);
  }

  /** The first recorded call (past or future) matching `predicate`. */
  waitFor(predicate: CallPredicate, timeoutMs: number): Promise<RecordedCall> {
    return this.signal.until(
      () => this.recorded.find(predicate),
      timeoutMs,
      () => `a matching REST call; calls so far:\n${this.summary()}`,
    );
  }

  /** One line per call, for failure messages. */
  summary(): string {
    if (this.recorded.length === 0) return '  (none)';
    return this.recorded.map((c) => `  #${c.seq} ${c.method} ${c.path} -> ${c.status}`).join('\n');
  }
}

/** Calls finish out of order; keep them in arrival order (usually this appends). */
function insertInOrder(list: RecordedCall[], call: RecordedCall): void {
  // Calls nearly always finish in the order they arrived; a splice at the end of a long log is far slower than push.
  if ((list.at(-1)?.seq ?? 0) < call.seq) {
    list.push(call);
    return;
  }
  let index = list.length;
  while (index > 0 && (list[index - 1]?.seq ?? 0) > call.seq) index -= 1;
  list.splice(index, 0, call);
}
