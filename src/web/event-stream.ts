/**
 * `GET /v1/generations/{id}/events`: Server-Sent Events for one generation — `status` (the whole generation, first),
 * `queued` (position), `running`, `progress`, `preview` (a data URL of the newest preview) and `end` (the whole
 * generation, last), then the stream closes. A client that reconnects with `Last-Event-ID` gets the events it missed
 * while this process still holds them, and the whole state otherwise (another process's ids, a restart, a long gap).
 * The end is also read from the store now and then: in a fleet the events are messages between processes, and a lost
 * one must never leave a stream open for ever.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveEvent, LiveHub } from './live.js';
import type { GenerationView } from './schemas.js';

const HEARTBEAT_MS = 15_000;
/** How often an open stream reads the generation from the store, in case its end was never heard. */
const DEFAULT_RECHECK_MS = 5_000;

export interface StreamSource {
  readonly hub: LiveHub;
  /** The generation now (throws the 404 problem before the stream starts). */
  readonly view: () => Promise<GenerationView>;
  /** Asks for the generation's previews from wherever it runs, while the stream is open; returns the stop. */
  readonly watch?: () => () => void;
  /** How often the store is read for an end that was not heard (tests shorten it). */
  readonly recheckMs?: number;
}

/** Streams a generation's events until its end or until the client leaves. */
export async function streamEvents(
  generationId: string,
  request: IncomingMessage,
  response: ServerResponse,
  source: StreamSource,
): Promise<void> {
  const { hub } = source;
  const first = await source.view();
  response.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    // Proxies such as nginx would otherwise hold the events back in their buffers.
    'X-Accel-Buffering': 'no',
  });
  response.flushHeaders();
  let closed = false;
  const write = (event: LiveEvent) => {
    if (closed) return;
    response.write(`id: ${hub.eventId(event.id)}\nevent: ${event.event}\ndata: ${event.data}\n\n`);
    // The end is said once, whether the hub or the store told it first.
    if (event.event === 'end') finish();
  };
  const finish = () => {
    if (closed) return;
    closed = true;
    cleanUp();
    response.end();
  };
  if (isEnded(first)) {
    response.write(`id: ${hub.eventId(0)}\nevent: end\ndata: ${JSON.stringify(first)}\n\n`);
    return void response.end();
  }
  const lastEventId = hub.ownEventNumber(header(request.headers['last-event-id']));
  // Events that arrive while the state is being read wait, so the stream never shows them before the state.
  let early: LiveEvent[] | undefined = [];
  const { missed, unsubscribe } = hub.subscribe(
    generationId,
    (event) => (early ? early.push(event) : write(event)),
    lastEventId,
  );
  const unwatch = source.watch?.() ?? (() => undefined);
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const recheck = setInterval(() => void readEnd(), source.recheckMs ?? DEFAULT_RECHECK_MS);
  const cleanUp = () => {
    clearInterval(heartbeat);
    clearInterval(recheck);
    unsubscribe();
    unwatch();
  };
  const readEnd = async () => {
    const now = await source.view().catch(() => undefined);
    if (now !== undefined && isEnded(now))
      write({ id: hub.lastId(generationId), event: 'end', data: JSON.stringify(now) });
  };
  request.once('close', () => {
    closed = true;
    cleanUp();
  });
  response.write('retry: 2000\n\n');
  let seen: number;
  if (missed !== undefined) {
    for (const event of missed) write(event);
    if (closed) return;
    seen = missed.at(-1)?.id ?? lastEventId ?? 0;
  } else {
    // Read again after subscribing: an end between the first read and the subscription is not lost.
    const now = await source.view();
    seen = hub.lastId(generationId);
    write({ id: seen, event: isEnded(now) ? 'end' : 'status', data: JSON.stringify(now) });
    if (closed) return;
    const preview = hub.state(generationId).preview;
    if (preview !== undefined) write({ id: seen, event: 'preview', data: JSON.stringify({ image: preview }) });
  }
  const waiting = early.filter((event) => event.id > seen);
  early = undefined;
  for (const event of waiting) write(event);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isEnded(view: GenerationView): boolean {
  return view.status === 'succeeded' || view.status === 'failed' || view.status === 'cancelled';
}
