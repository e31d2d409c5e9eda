/**
 * The live events of web jobs between processes, on a real redis-server: two relays on one Redis stand for two
 * processes of a fleet, each with its own hub.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { LiveHub, type LiveEvent } from '../../src/web/live.js';
import { RedisLiveRelay } from '../../src/web/live-relay.js';
import type { GenerationView } from '../../src/web/schemas.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';

const runRedis = shouldRunRedisTests('live relay suite');

let redis: RedisServer;
const relays: RedisLiveRelay[] = [];

beforeAll(async () => {
  if (runRedis) redis = await startRedisServer();
});

afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
  await redis?.stop();
});

/** A process's hub and relay; `ends` counts the store reads of an end. */
async function process(previewIntervalMs = 10_000) {
  const hub = new LiveHub();
  const ends: string[] = [];
  const relay = new RedisLiveRelay({
    url: redis.url,
    hub,
    endOf: async (id) => {
      ends.push(id);
      return { id, status: 'succeeded' } as GenerationView;
    },
    logger: silentLogger(),
    previewIntervalMs,
  });
  relays.push(relay);
  await relay.start();
  return { hub, relay, ends };
}

/** Collects what a hub's subscribers hear of `id`. */
function listen(hub: LiveHub, id: string): LiveEvent[] {
  const heard: LiveEvent[] = [];
  hub.subscribe(id, (event) => heard.push(event));
  return heard;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.runIf(runRedis)('the live relay of a fleet', () => {
  it('brings a generation’s state events and its end, read from the store, to another process, once', async () => {
    const carrier = await process();
    const front = await process();
    const atCarrier = listen(carrier.hub, 'gen-a');
    const atFront = listen(front.hub, 'gen-a');
    carrier.relay.publish('gen-a', 'running', {});
    carrier.relay.publish('gen-a', 'progress', { value: 1, max: 2, percent: 50 });
    carrier.relay.publish('gen-a', 'end', { id: 'gen-a', status: 'succeeded', outputs: [] });
    await until(() => atFront.some((event) => event.event === 'end'), 'the end at the front');

    expect(atFront.map((event) => event.event)).toEqual(['running', 'progress', 'end']);
    expect(front.ends).toEqual(['gen-a']);
    expect(front.hub.state('gen-a').progress).toEqual({ value: 1, max: 2 });
    // The carrier heard its own events once, not again through Redis.
    expect(atCarrier.map((event) => event.event)).toEqual(['running', 'progress', 'end']);
    expect(carrier.ends).toEqual([]);
  });

  it('sends previews only to processes that watch the generation, at most one per interval', async () => {
    const carrier = await process(60_000);
    const watching = await process();
    const other = await process();
    const seen = listen(watching.hub, 'gen-p');
    const unwatched = listen(other.hub, 'gen-p');
    const stop = watching.relay.watch('gen-p');
    // Redis itself says when the watcher listens on the generation's preview channel.
    const probe = new Redis(redis.url);
    const deadline = Date.now() + 10_000;
    while (Number(((await probe.pubsub('NUMSUB', 'comfycord:web:preview:gen-p')) as unknown[])[1]) !== 1) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the watcher to listen');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await probe.quit();
    carrier.relay.publish('gen-p', 'running', {});
    await until(() => seen.length > 0 && unwatched.length > 0, 'the running event');
    for (let step = 1; step <= 5; step++) carrier.relay.publish('gen-p', 'preview', { image: `data:,${step}` });
    carrier.relay.publish('gen-p', 'progress', { value: 5, max: 5, percent: 100 });
    await until(() => unwatched.some((event) => event.event === 'progress'), 'the progress elsewhere');
    await until(() => seen.some((event) => event.event === 'progress'), 'the progress at the watcher');

    expect(seen.filter((event) => event.event === 'preview').map((event) => JSON.parse(event.data))).toEqual([
      { image: 'data:,1' },
    ]);
    expect(unwatched.map((event) => event.event)).toEqual(['running', 'progress']);
    stop();
  });

  it('forgets a generation that ended elsewhere when no stream of its own follows it, without reading the store', async () => {
    const carrier = await process();
    const idle = await process();
    carrier.relay.publish('gen-i', 'progress', { value: 1, max: 3, percent: 33 });
    await until(() => idle.hub.state('gen-i').progress !== undefined, 'the progress');
    carrier.relay.publish('gen-i', 'end', { id: 'gen-i', status: 'succeeded' });
    await until(() => idle.hub.state('gen-i').progress === undefined, 'the hub to forget it');
    expect(idle.ends).toEqual([]);
  });
});

describe.runIf(runRedis)('the live relay when Redis stops answering', () => {
  it('closes at once, without waiting for answers that never come', async () => {
    const paused = await startRedisServer();
    // The server's own pid, from the server: stopped (SIGSTOP) it keeps its sockets open and answers nothing, as a
    // frozen host or a cut network does.
    const probe = new Redis(paused.url);
    const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
    await probe.quit();
    const relay = new RedisLiveRelay({
      url: paused.url,
      hub: new LiveHub(),
      endOf: async () => undefined,
      logger: silentLogger(),
    });
    await relay.start();
    globalThis.process.kill(pid, 'SIGSTOP');
    try {
      // A stream starts following a generation: its SUBSCRIBE is sent and never answered.
      relay.watch('gen-frozen');
      await relay.close();
    } finally {
      globalThis.process.kill(pid, 'SIGCONT');
      await paused.stop();
    }
  });
});
