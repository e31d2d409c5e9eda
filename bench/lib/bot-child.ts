/**
 * The bot under benchmark, alone in its own process (bot-process.ts spawns it with `--expose-gc`), so its event loop,
 * CPU time and memory are its own and not shared with the emulators and the fake Discord. It runs `startComfycord`,
 * the composition `npm start` runs, with a production logger on stdout (which the parent points at a file), and
 * answers the parent's requests over IPC: start, sample (memory after a forced GC, caches, event-loop delay), stop.
 */
import diagnostics from 'node:diagnostics_channel';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Events, RESTEvents, type Client } from 'discord.js';
import { z } from 'zod';
import { startComfycord, type Comfycord } from '../../src/app.js';
import { ComfyClient } from '../../src/comfy/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { ConnectServer } from '../../src/jobs/index.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { WindowProfiler } from './window-profiler.js';

const startRequest = z.object({
  type: z.literal('start'),
  env: z.record(z.string(), z.string()),
  dataDir: z.string(),
  cardIntervalMs: z.number().int().min(0).optional(),
  pollOnlyMs: z.number().int().min(1).optional(),
  trace: z.boolean().optional(),
});
const request = z
  .object({ id: z.number().int() })
  .and(
    z.discriminatedUnion('type', [
      startRequest,
      z.object({ type: z.literal('sample') }),
      z.object({ type: z.literal('profile-start') }),
      z.object({ type: z.literal('profile-stop'), file: z.string() }),
      z.object({ type: z.literal('stop') }),
    ]),
  );
type StartRequest = z.infer<typeof startRequest>;

let bot: Comfycord | undefined;
const profiler = new WindowProfiler();
/**
 * With `trace`: when each INTERACTION_CREATE reached discord.js, when its callback request was created and written to
 * a socket, when the callback's answer came back, how many job
 * events of each type the runner emitted, and when the runner announced each job's result (by interaction token).
 */
const trace = newTrace();
const channels: diagnostics.Channel[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

process.on('message', (raw: unknown) => {
  const parsed = request.safeParse(raw);
  if (!parsed.success) return reply(-1, { type: 'error', message: `bad request: ${parsed.error.message}` });
  const message = parsed.data;
  handle(message).then(
    (answer) => reply(message.id, answer),
    (error: unknown) =>
      reply(message.id, { type: 'error', message: error instanceof Error ? error.stack : String(error) }),
  );
});
// The parent is gone: nothing will ever stop us otherwise.
process.on('disconnect', () => process.exit(0));

async function handle(message: z.infer<typeof request>): Promise<Record<string, unknown>> {
  switch (message.type) {
    case 'start':
      bot = await start(message);
      return { type: 'started' };
    case 'sample':
      return { type: 'sample', ...(await sample()) };
    case 'profile-start':
      await profiler.start();
      return { type: 'profiling' };
    case 'profile-stop':
      await profiler.stop(message.file);
      return { type: 'profiled', file: message.file };
    case 'stop':
      await bot?.stop();
      // Exit after the answer is out; --cpu-prof writes its profile on exit.
      setImmediate(() => process.exit(0));
      return { type: 'stopped' };
  }
}

async function start(message: StartRequest): Promise<Comfycord> {
  const config = loadConfig(message.env, { requireDiscord: true, interactive: false });
  const logger = createLogger({ ...config.log, secrets: config.discord.token ? [config.discord.token] : [] });
  const connect = message.pollOnlyMs === undefined ? undefined : pollingOnly(config, logger, message.pollOnlyMs);
  const started = await startComfycord({
    config,
    logger,
    dataDir: message.dataDir,
    cardIntervalMs: message.cardIntervalMs,
    connect,
  });
  if (message.trace) {
    traceInteractions(started.client);
    started.runner.onEvent((job, event) => {
      trace.events[event.type] = (trace.events[event.type] ?? 0) + 1;
      const token = job.delivery?.interactionToken;
      if (event.type === 'succeeded' && token) trace.succeeded[token] = Date.now();
    });
  }
  return started;
}

/**
 * Timestamps from discord.js's own events and undici's diagnostics channels (no change to the bot): gateway packets
 * in, callback requests created and their headers written to a socket, REST answers back.
 */
function traceInteractions(client: Client): void {
  const callbackId = (path: string) => /^\/api\/v\d+\/interactions\/(\d+)\/[^/]+\/callback/.exec(path)?.[1];
  const stamp = (into: 'callbackCreated' | 'callbackSent') => (message: unknown) => {
    const id = callbackId((message as { request?: { path?: string } }).request?.path ?? '');
    if (id) trace[into][id] = Date.now();
  };
  // Held here: a channel nothing references may be collected, and its subscribers with it.
  channels.push(diagnostics.channel('undici:request:create'), diagnostics.channel('undici:client:sendHeaders'));
  channels[0]!.subscribe(stamp('callbackCreated'));
  channels[1]!.subscribe(stamp('callbackSent'));
  client.on(Events.Raw, (packet: { t?: string; d?: { id?: string } }) => {
    if (packet.t === 'INTERACTION_CREATE' && packet.d?.id) trace.interactions[packet.d.id] = Date.now();
  });
  client.rest.on(RESTEvents.Response, (request) => {
    const match = /^\/interactions\/(\d+)\/[^/]+\/callback/.exec(request.path);
    if (match?.[1]) trace.callbacks[match[1]] = Date.now();
  });
}

/**
 * A ComfyUI client that learns how prompts end only by polling `/queue` and `/history` every `intervalMs`, as the seed
 * demo did. The parent points COMFY_URLS at proxies that refuse WebSocket upgrades; the client then reconciles on its
 * down-socket schedule, which a fixed backoff turns into a fixed interval. Reconnect attempts are pushed out of the
 * way, and a short connect timeout keeps each submit from waiting long for a socket that will not open.
 */
function pollingOnly(config: Config, logger: Logger, intervalMs: number): ConnectServer {
  return (server, clientId) =>
    new ComfyClient({
      name: server.name,
      baseUrl: server.url,
      clientId,
      logger,
      stallTimeoutMs: config.comfy.stallTimeoutMs,
      poll: { minMs: intervalMs, maxMs: intervalMs },
      reconnect: { minMs: 3_600_000, maxMs: 3_600_000 },
      connectTimeoutMs: 100,
    });
}

async function sample(): Promise<Record<string, unknown>> {
  // Before the forced collections below, which are the benchmark's doing, not the bot's.
  const cpu = process.cpuUsage();
  const delay = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Twice, with a turn of the loop between: the first pass runs finalizers that free more for the second.
    gc();
    await sleep(50);
    gc();
  }
  // After the collections, so their pauses do not count against the next interval.
  loopDelay.reset();
  return {
    memory: process.memoryUsage(),
    gcForced: gc !== undefined,
    caches: bot ? cacheSizes(bot.client) : undefined,
    loopDelayMs: delay,
    cpu,
    trace: takeTrace(),
  };
}

/** What discord.js keeps in memory: channels (threads included) and the messages cached in them. */
function cacheSizes(client: Client): Record<string, number> {
  let messages = 0;
  for (const channel of client.channels.cache.values())
    if (channel.isTextBased()) messages += channel.messages.cache.size;
  return {
    channels: client.channels.cache.size,
    messages,
    users: client.users.cache.size,
    guilds: client.guilds.cache.size,
  };
}

function newTrace() {
  return {
    interactions: {} as Record<string, number>,
    callbackCreated: {} as Record<string, number>,
    callbackSent: {} as Record<string, number>,
    callbacks: {} as Record<string, number>,
    events: {} as Record<string, number>,
    succeeded: {} as Record<string, number>,
  };
}

/** What was traced since the last sample; the trace starts over. */
function takeTrace(): ReturnType<typeof newTrace> {
  const taken = { ...trace };
  Object.assign(trace, newTrace());
  return taken;
}

function reply(id: number, answer: Record<string, unknown>): void {
  process.send?.({ id, ...answer });
}
