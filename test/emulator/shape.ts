/**
 * Compares the emulator with the recordings by shape: the sequence of WebSocket message types and, recursively, the
 * keys and value kinds of every message and HTTP body. Ids, timestamps, file names and numbers are not compared.
 */
import { readFileSync } from 'node:fs';
import type { WsEvent } from './ws-client.js';

/** One event as the recorder wrote it: a text frame, a binary-frame description, or an abbreviated progress_state. */
export interface RecordedEvent {
  readonly type?: string;
  readonly data?: unknown;
  readonly nodes?: Record<string, [string, number, number]>;
  readonly binary?: boolean;
  readonly event_type?: number;
  readonly image_type?: number;
  readonly metadata?: Record<string, unknown>;
}

/** Reads a recording (`test/fixtures/recorded/`, copied from the shared `comfyui/recorded/`). */
export function recording<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/recorded/${name}.json`, import.meta.url), 'utf8')) as T;
}

/** Keys whose values vary in length between servers (Python tracebacks, command lines): only their kind counts. */
const LOOSE_KEYS = new Set(['traceback', 'argv']);

/** The shape of a JSON value: keys and value kinds, recursively. */
export function shapeOf(value: unknown, key = ''): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return LOOSE_KEYS.has(key) ? 'array' : value.map((item) => shapeOf(item));
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries.map(([name, item]) => [name, shapeOf(item, name)]));
  }
  return typeof value;
}

/** Describes a recorded event for comparison; the recording decides how much detail is compared. */
export function describeRecorded(event: RecordedEvent): unknown {
  if (event.binary) return binaryDescription(event.event_type ?? 0, event.image_type, event.metadata);
  if (event.data === undefined && event.nodes) {
    return {
      type: event.type,
      nodes: Object.fromEntries(Object.entries(event.nodes).map(([id, [state]]) => [id, state])),
    };
  }
  return { type: event.type, data: shapeOf(event.data) };
}

/** Describes a live event in the same form as the recorded event it is compared with. */
export function describeLive(event: WsEvent, like: RecordedEvent | undefined): unknown {
  if (event.kind === 'binary') {
    if (event.event === 4) {
      const length = event.bytes.readUInt32BE(4);
      const metadata = JSON.parse(event.bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
      return binaryDescription(4, undefined, metadata);
    }
    return binaryDescription(event.event, event.bytes.readUInt32BE(4), undefined);
  }
  if (like && like.data === undefined && like.nodes && event.type === 'progress_state') {
    const nodes = (event.data['nodes'] ?? {}) as Record<string, { state: string }>;
    return { type: event.type, nodes: Object.fromEntries(Object.entries(nodes).map(([id, node]) => [id, node.state])) };
  }
  return { type: event.type, data: shapeOf(event.data) };
}

function binaryDescription(
  eventType: number,
  imageType: number | undefined,
  metadata: Record<string, unknown> | undefined,
): unknown {
  if (eventType === 4) return { binary: 4, metadata: shapeOf(metadata), imageType: metadata?.['image_type'] };
  return { binary: eventType, imageType };
}

/** Pairs live events with recorded ones for a readable `toEqual` diff. */
export function compareEvents(
  live: readonly WsEvent[],
  recorded: readonly RecordedEvent[],
): { live: unknown[]; recorded: unknown[] } {
  return {
    live: live.map((event, index) => describeLive(event, recorded[index])),
    recorded: recorded.map(describeRecorded),
  };
}
