/**
 * A test-side WebSocket client on undici's real WebSocket that records every frame and lets tests wait for one.
 */
import { WebSocket } from 'undici';

/** A text event as received. */
export interface TextEvent {
  readonly kind: 'text';
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** A binary frame as received. */
export interface BinaryEvent {
  readonly kind: 'binary';
  readonly bytes: Buffer;
  /** The big-endian u32 event number at the start. */
  readonly event: number;
}

/** Either kind of frame. */
export type WsEvent = TextEvent | BinaryEvent;

/** A connected client. */
export interface RecordingClient {
  readonly events: WsEvent[];
  /** Resolves with the first event (from index `from`) that satisfies `test`. */
  waitFor(test: (event: WsEvent) => boolean, from?: number, timeoutMs?: number): Promise<WsEvent>;
  send(message: unknown): void;
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Opens `/ws` (or `/api/ws`) on the emulator and records its frames. */
export async function connectClient(baseUrl: string, clientId?: string, path = '/ws'): Promise<RecordingClient> {
  const query = clientId === undefined ? '' : `?clientId=${encodeURIComponent(clientId)}`;
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}${query}`);
  socket.binaryType = 'arraybuffer';
  const events: WsEvent[] = [];
  const listeners = new Set<() => void>();
  socket.addEventListener('message', (message) => {
    events.push(toEvent(message.data as string | ArrayBuffer));
    for (const listener of listeners) listener();
  });
  const closed = new Promise<void>((resolve) => socket.addEventListener('close', () => resolve(), { once: true }));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('websocket failed to open')), { once: true });
  });
  return {
    events,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    waitFor: (test, from = 0, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events.slice(from).find(test);
          if (!found) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching websocket event among ${events.length}: ${summary(events)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = (): void => void check();
        if (!check()) listeners.add(listener);
      }),
    close: () => {
      if (socket.readyState !== socket.CLOSED) socket.close();
      return closed;
    },
  };
}

function toEvent(data: string | ArrayBuffer): WsEvent {
  if (typeof data === 'string') {
    const parsed = JSON.parse(data) as { type: string; data: Record<string, unknown> };
    return { kind: 'text', type: parsed.type, data: parsed.data };
  }
  const bytes = Buffer.from(data);
  return { kind: 'binary', bytes, event: bytes.readUInt32BE(0) };
}

/** True for a text event of this type (and, optionally, for this prompt). */
export function isText(type: string, promptId?: string): (event: WsEvent) => boolean {
  return (event) =>
    event.kind === 'text' && event.type === type && (promptId === undefined || event.data['prompt_id'] === promptId);
}

/** True for a text event of this type whose data passes `test`. */
export function isTextWhere(
  type: string,
  test: (data: Record<string, unknown>) => boolean,
): (event: WsEvent) => boolean {
  return (event) => event.kind === 'text' && event.type === type && test(event.data);
}

/** The data of a text event (fails the test if it is not one). */
export function textData(event: WsEvent | undefined): Record<string, unknown> {
  if (event?.kind !== 'text') throw new Error('expected a text event');
  return event.data;
}

/** Resolves when the prompt's final `executing {node: null}` arrives. */
export function isPromptDone(promptId: string): (event: WsEvent) => boolean {
  return (event) => isText('executing', promptId)(event) && (event as TextEvent).data['node'] === null;
}

/** True for a broadcast `status` saying the queue is empty (not the on-connect one). */
export function isIdleStatus(event: WsEvent): boolean {
  return (
    isText('status')(event) &&
    (event as TextEvent).data['sid'] === undefined &&
    JSON.stringify((event as TextEvent).data) === '{"status":{"exec_info":{"queue_remaining":0}}}'
  );
}

function summary(events: readonly WsEvent[]): string {
  return events.map((event) => (event.kind === 'text' ? event.type : `binary:${event.event}`)).join(', ');
}
