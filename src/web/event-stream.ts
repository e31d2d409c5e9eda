/**
 * `GET /v1/generations/{id}/events`: Server-Sent Events for one generation — `status` (the whole generation, first),
 * `queued` (position), `running`, `progress`, `preview` (a data URL of the newest preview) and `end` (the whole
 * generation, last), then the stream closes. A client that reconnects with `Last-Event-ID` gets the events it missed
 * while the server still holds them, and the whole state otherwise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveEvent, LiveHub } from './live.js';
import type { GenerationView } from './schemas.js';

const HEARTBEAT_MS = 15_000;

export interface StreamSource {
  readonly hub: LiveHub;
  /** The generation now (throws the 404 problem before the stream starts). */
  readonly view: () => Promise<GenerationView>;
}

/** Streams a generation's events until its end or until the client leaves. */
export async function streamEvents(
  generationId: string,
  request: IncomingMessage,
  response: ServerResponse,
  source: StreamSource,
): Promise<void> {
  const first = await source.view();
  response.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    // Proxies such as nginx would otherwise hold the events back in their buffers.
    'X-Accel-Buffering': 'no',
  });
  response.flushHeaders();
  const write = (event: LiveEvent) => response.write(`id: ${event.id}\nevent: ${event.event}\ndata: ${event.data}\n\n`);
  const finish = () => {
    cleanUp();
    response.end();
  };
  if (isEnded(first)) {
    write({ id: 0, event: 'end', data: JSON.stringify(first) });
    return void response.end();
  }
  const lastEventId = Number(request.headers['last-event-id']);
  // Events that arrive while the state is being read wait, so the stream never shows them before the state.
  let early: LiveEvent[] | undefined = [];
  const deliver = (event: LiveEvent) => {
    write(event);
    if (event.event === 'end') finish();
  };
  const { missed, unsubscribe } = source.hub.subscribe(
    generationId,
    (event) => (early ? early.push(event) : deliver(event)),
    Number.isSafeInteger(lastEventId) ? lastEventId : undefined,
  );
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const cleanUp = () => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  request.once('close', cleanUp);
  response.write('retry: 2000\n\n');
  let seen: number;
  if (missed !== undefined) {
    for (const event of missed) write(event);
    if (missed.some((event) => event.event === 'end')) return finish();
    seen = missed.at(-1)?.id ?? lastEventId;
  } else {
    // Read again after subscribing: an end between the first read and the subscription is not lost.
    const now = await source.view();
    seen = source.hub.lastId(generationId);
    write({ id: seen, event: isEnded(now) ? 'end' : 'status', data: JSON.stringify(now) });
    if (isEnded(now)) return finish();
    const preview = source.hub.state(generationId).preview;
    if (preview !== undefined) write({ id: seen, event: 'preview', data: JSON.stringify({ image: preview }) });
  }
  const waiting = early.filter((event) => event.id > seen);
  early = undefined;
  for (const event of waiting) deliver(event);
}

function isEnded(view: GenerationView): boolean {
  return view.status === 'succeeded' || view.status === 'failed' || view.status === 'cancelled';
}
