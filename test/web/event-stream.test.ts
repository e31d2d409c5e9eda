/**
 * The event stream on its own, over a real socket: an end whose message never came is read from the store, an end
 * told both ways is said once, and a Last-Event-ID of another process's hub gets the whole state.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { streamEvents } from '../../src/web/event-stream.js';
import { LiveHub } from '../../src/web/live.js';
import type { GenerationView } from '../../src/web/schemas.js';
import { readEvents } from './harness.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Serves one generation's stream from `hub`, its state from `state()`. */
async function serve(hub: LiveHub, state: () => GenerationView['status']): Promise<string> {
  server = createServer((request, response) => {
    // The test's stand-in for a generation: only what the stream reads.
    const view = async () => ({ id: 'gen-1', status: state() }) as GenerationView;
    void streamEvents('gen-1', request, response, { hub, view, recheckMs: 20 });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('a generation’s event stream', () => {
  it('ends with the end the store has, when the end message never came', async () => {
    const hub = new LiveHub();
    let status: GenerationView['status'] = 'running';
    const url = await serve(hub, () => status);
    const events = readEvents(url, {
      stopWhen: (event) => {
        // Progress is heard, then the store says it ended, and no end is ever published.
        if (event.event === 'status') hub.publish('gen-1', 'progress', { value: 1, max: 2, percent: 50 });
        if (event.event === 'progress') status = 'succeeded';
        return false;
      },
    });
    const kinds = (await events).map((event) => event.event);
    expect(kinds).toEqual(['status', 'progress', 'end']);
  });

  it('says the end once when the hub and the store both tell it', async () => {
    const hub = new LiveHub();
    let status: GenerationView['status'] = 'running';
    const url = await serve(hub, () => status);
    const events = await readEvents(url, {
      stopWhen: (event) => {
        if (event.event === 'status') {
          status = 'succeeded';
          hub.publish('gen-1', 'end', { id: 'gen-1', status: 'succeeded' });
        }
        return false;
      },
    });
    expect(events.map((event) => event.event)).toEqual(['status', 'end']);
  });

  it('gives a Last-Event-ID of another hub the whole state, and one of its own the events after it', async () => {
    const hub = new LiveHub();
    hub.publish('gen-1', 'running', {});
    hub.publish('gen-1', 'progress', { value: 1, max: 4, percent: 25 });
    hub.publish('gen-1', 'progress', { value: 2, max: 4, percent: 50 });
    const url = await serve(hub, () => 'running');
    const stopAtFirst = { stopWhen: () => true };

    const elsewhere = await readEvents(url, { ...stopAtFirst, lastEventId: 'feedbeef-2' });
    expect(elsewhere.map((event) => event.event)).toEqual(['status']);

    const own = await readEvents(url, { ...stopAtFirst, lastEventId: hub.eventId(2) });
    expect(own.map((event) => [event.event, event.id])).toEqual([['progress', hub.eventId(3)]]);
  });
});
