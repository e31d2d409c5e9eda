/**
 * Web processes of one fleet (`npm run web` on a real redis-server, each in its own work directory):
 * - started at once after one of them was killed (SIGKILL) between writing a generation's record and making its job:
 *   every start finishes the pending generations it finds, and the generation must become one job, run once, with one
 *   webhook;
 * - behind a load balancer that is not sticky: a generation's event stream, opened on every process, shows its
 *   progress, previews and end wherever it runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startBotChild, type BotChild } from '../e2e/bot-child.js';
import { DISCORD_ENVIRONMENT_VARIABLES, startFakeDiscord } from '../fakes/discord/index.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';
import { ALICE, BOB, readEvents, WEBHOOK_SECRET, type StreamEvent } from '../web/harness.js';
import { startWebChild, type WebChild } from '../web/web-process.js';

const runRedis = shouldRunRedisTests('fleet web suite');
/** A third caller, so each scenario reads only its own generations. */
const CAROL = 'carol-key-0123456789abcdef0';

let redis: RedisServer;
let emulator: Emulator;
let receiver: Server;
let receiverUrl: string;
const deliveries: { readonly headers: IncomingHttpHeaders; readonly body: string }[] = [];
const children: WebChild[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  if (!runRedis) return;
  redis = await startRedisServer();
  emulator = await startEmulator({ stepMs: 20, previews: true });
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString() });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const web of children) web.child.kill('SIGKILL');
  await Promise.all(children.map((web) => web.exited));
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await emulator?.close();
  await redis?.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A web process of the fleet, in a work directory of its own (its own `data/`, as on its own host). */
async function startWeb(name: string, faultPoint?: string): Promise<WebChild> {
  const workDir = await mkdtemp(path.join(tmpdir(), `comfycord-fleet-web-${name}-`));
  dirs.push(workDir);
  const web = startWebChild(workDir, {
    COMFY_URLS: `emu=${emulator.url}`,
    STORE_URL: redis.url,
    COMFYCORD_PROCESS_NAME: name,
    WEB_API_KEYS: `alice:${ALICE},bob:${BOB},carol:${CAROL}`,
    WEB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    WEB_WEBHOOK_ALLOW: `${receiverUrl}/hooks/`,
    WEB_WEBHOOK_PRIVATE_NETWORKS: '127.0.0.1',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...(faultPoint === undefined ? {} : { COMFYCORD_FAULT_POINT: faultPoint }),
  });
  children.push(web);
  await web.ready;
  return web;
}

// The API's answers are JSON objects; the test reads them loosely.
async function api(web: WebChild, method: string, route: string, json?: unknown, key = ALICE) {
  const response = await fetch(`${web.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, body: (await response.json()) as any };
}

async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string | (() => string),
  webs: WebChild[],
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      const said = typeof what === 'string' ? what : what();
      throw new Error(`timed out waiting for ${said}\n${webs.map((web) => web.output.join('')).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.runIf(runRedis)('web processes of a fleet started at once over a pending generation', () => {
  it('make its job once: it runs once, ends succeeded, and its webhook comes once', async () => {
    const first = await startWeb('w1', 'web:after-record');
    const prompt = 'a heron left pending by a fleet';
    await expect(
      api(first, 'POST', '/v1/generations', { prompt: `${prompt} --steps 2`, webhook: `${receiverUrl}/hooks/p` }),
    ).rejects.toThrow();
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const webs = await Promise.all([startWeb('w2'), startWeb('w3')]);
    const [id] = await until(
      async () => {
        const listed = (await api(webs[0]!, 'GET', '/v1/generations')).body.data as { id: string }[];
        return listed.length > 0 ? listed.map((generation) => generation.id) : undefined;
      },
      'the pending generation',
      webs,
    );
    const done = await until(
      async () => {
        const { body } = await api(webs[1]!, 'GET', `/v1/generations/${id}`);
        return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      'the generation to end',
      webs,
    );
    expect(done.status).toBe('succeeded');
    const messages = () => deliveries.filter((delivery) => delivery.headers['webhook-id'] === `msg_${id}`);
    await until(async () => (messages().length > 0 ? true : undefined), 'its webhook', webs);
    // Room for a second job or a second message, were either to come.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(messages()).toHaveLength(1);
    expect(emulator.received.filter((received) => JSON.stringify(received.prompt).includes(prompt))).toHaveLength(1);
    for (const web of webs) {
      web.child.kill('SIGTERM');
      expect((await web.exited).code, web.output.join('')).toBe(0);
    }
  }, 180_000);
});

describe.runIf(runRedis)('web processes of a fleet behind a load balancer that is not sticky', () => {
  it('stream a generation carried by another process: progress and previews arrive, then the end, once', async () => {
    const webs = await Promise.all([startWeb('sse-a'), startWeb('sse-b'), startWeb('sse-c')]);
    const names = ['sse-a', 'sse-b', 'sse-c'];
    const carriedElsewhere: string[] = [];
    // The carrier is whichever process BullMQ hands the job to. Each generation is created through the next process
    // in turn until one was carried by a process other than the one that took the request (BullMQ hands jobs to the
    // waiting workers in turn, so the second try at the latest); every try checks every stream all the same.
    for (let round = 0; round < 6 && carriedElsewhere.length === 0; round++) {
      const creator = round % 3;
      const prompt = `a heron streamed from every process, round ${round}`;
      // Slow steps until every stream has shown progress and a preview, then fast to the end.
      emulator.faults.stepMs = 1_000;
      const created = await api(webs[creator]!, 'POST', '/v1/generations', { prompt: `${prompt} --steps 40` }, BOB);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id as string;
      const seen: StreamEvent[][] = webs.map(() => []);
      const streams = webs.map((web, index) =>
        readEvents(`${web.url}/v1/generations/${id}/events`, {
          key: BOB,
          stopWhen: (event) => {
            seen[index]!.push(event);
            return false;
          },
        }),
      );
      const showed = (events: StreamEvent[], name: string) => events.some((event) => event.event === name);
      await until(
        async () =>
          seen.every((events) => showed(events, 'progress') && showed(events, 'preview')) ? true : undefined,
        () =>
          `progress and a preview on every stream of ${id} (${JSON.stringify(seen.map((e) => e.map((x) => x.event)))})`,
        webs,
      );
      const carrier = names.find((name) =>
        emulator.received.some(
          (received) => JSON.stringify(received.prompt).includes(prompt) && received.clientId?.includes(`-${name}-`),
        ),
      );
      expect(carrier, 'the prompt names its carrier in its client id').toBeDefined();
      // Read through a process that does not carry it, the generation says how far it got, too.
      const other = webs[names.findIndex((name) => name !== carrier)]!;
      const running = await api(other, 'GET', `/v1/generations/${id}`, undefined, BOB);
      expect(running.body.status).toBe('running');
      expect(running.body.progress?.value).toBeGreaterThan(0);
      emulator.faults.stepMs = 5;

      const events = await Promise.all(streams);
      for (const [index, stream] of events.entries()) {
        const kinds = stream.map((event) => event.event);
        expect(
          kinds.filter((kind) => kind === 'end'),
          `${names[index]}: ${kinds.join(' ')}`,
        ).toHaveLength(1);
        expect(kinds.at(-1)).toBe('end');
        expect(stream.at(-1)!.data.status).toBe('succeeded');
        expect(stream.at(-1)!.data.outputs).toHaveLength(1);
        const values = stream.filter((event) => event.event === 'progress').map((event) => event.data.value as number);
        expect(values).toEqual([...values].sort((a, b) => a - b));
      }
      // A stream opened after the end gets the end at once, on every process.
      for (const web of webs) {
        const late = await readEvents(`${web.url}/v1/generations/${id}/events`, { key: BOB });
        expect(late.map((event) => event.event)).toEqual(['end']);
      }
      if (carrier !== names[creator]) carriedElsewhere.push(`${names[creator]} → ${carrier}`);
    }
    expect(carriedElsewhere).toHaveLength(1);
    for (const web of webs) {
      web.child.kill('SIGTERM');
      expect((await web.exited).code, web.output.join('')).toBe(0);
    }
  }, 240_000);
});

/** The generation of `key`'s, once it ended. */
async function ended(web: WebChild, id: string, webs: WebChild[], key: string) {
  return until(
    async () => {
      const { body } = await api(web, 'GET', `/v1/generations/${id}`, undefined, key);
      return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    `generation ${id} to end`,
    webs,
    // A live process takes over a dead one's pending generation at once; its unsent webhooks in the pass over strays
    // (every 30 s).
    150_000,
  );
}

describe.runIf(runRedis)('what a killed web process of a fleet left, a live one finishes without any restart', () => {
  it('makes the job of a generation whose process died after writing its record: it runs once', async () => {
    const [alive, doomed] = await Promise.all([startWeb('take-alive'), startWeb('take-doomed', 'web:after-record')]);
    const webs = [alive, doomed];
    const prompt = 'a heron a live process took over';
    const webhook = `${receiverUrl}/hooks/taken`;
    await expect(
      api(doomed, 'POST', '/v1/generations', { prompt: `${prompt} --steps 2`, webhook }, CAROL),
    ).rejects.toThrow();
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const [id] = await until(
      async () => {
        const listed = (await api(alive, 'GET', '/v1/generations', undefined, CAROL)).body.data as { id: string }[];
        return listed.length > 0 ? listed.map((generation) => generation.id) : undefined;
      },
      'the pending generation',
      webs,
    );
    const done = await ended(alive, id!, webs, CAROL);
    expect(done.status).toBe('succeeded');
    // The process that was alive all along did it, in its pass over what dead processes left, not at a start, and
    // because the writer's life was over (its pid gone, on one machine), not by the grace.
    expect(alive.child.exitCode).toBeNull();
    const finishing = alive.output
      .join('')
      .split('\n')
      .filter((line) => line.includes('finishing a generation another process accepted before it died'));
    expect(finishing).toHaveLength(1);
    expect(JSON.parse(finishing[0]!)).toMatchObject({
      generation: id,
      takenOver: 'writer-gone',
      writer: 'take-doomed',
    });
    const messages = () => deliveries.filter((delivery) => delivery.headers['webhook-id'] === `msg_${id}`);
    await until(async () => (messages().length > 0 ? true : undefined), 'its webhook', webs);
    // Room for a second job or a second message, were either to come.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(messages()).toHaveLength(1);
    expect(emulator.received.filter((received) => JSON.stringify(received.prompt).includes(prompt))).toHaveLength(1);
    alive.child.kill('SIGTERM');
    expect((await alive.exited).code, alive.output.join('')).toBe(0);
  }, 240_000);

  it('sends a webhook its process was killed before sending, from another process, once', async () => {
    // Alone in the fleet, the owner carries the job; the other process starts while it renders.
    emulator.faults.stepMs = 1_000;
    const owner = await startWeb('hook-owner', 'web:before-webhook');
    const prompt = 'a heron whose webhook outlived its process';
    const created = await api(
      owner,
      'POST',
      '/v1/generations',
      { prompt: `${prompt} --steps 40`, webhook: `${receiverUrl}/hooks/owed` },
      CAROL,
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const carriedBy = (name: string) =>
      emulator.received.some(
        (received) => JSON.stringify(received.prompt).includes(prompt) && received.clientId?.includes(`-${name}-`),
      );
    await until(async () => (carriedBy('hook-owner') ? true : undefined), 'the owner to carry it', [owner]);
    const heir = await startWeb('hook-heir');
    emulator.faults.stepMs = 5;
    // The owner recorded the outcome and queued the webhook, then died right before sending it.
    expect(await owner.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(deliveries.filter((delivery) => delivery.headers['webhook-id'] === `msg_${id}`)).toHaveLength(0);

    const messages = () => deliveries.filter((delivery) => delivery.headers['webhook-id'] === `msg_${id}`);
    await until(async () => (messages().length > 0 ? true : undefined), 'the owed webhook', [owner, heir], 150_000);
    expect((await ended(heir, id, [owner, heir], CAROL)).status).toBe('succeeded');
    expect(JSON.parse(messages()[0]!.body)).toMatchObject({ type: 'generation.succeeded', data: { id } });
    // Room for a second message, were one to come.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(messages()).toHaveLength(1);
    expect(heir.child.exitCode).toBeNull();
    heir.child.kill('SIGTERM');
    expect((await heir.exited).code, heir.output.join('')).toBe(0);
  }, 240_000);
});

describe.runIf(runRedis)('a bot process of the fleet without HTTP_PORT', () => {
  it('keeps the result of a web job it carries: the generation ends with its outputs, read on the web process', async () => {
    for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
    const discord = await startFakeDiscord();
    const workDir = await mkdtemp(path.join(tmpdir(), 'comfycord-fleet-web-bot-'));
    dirs.push(workDir);
    let bot: BotChild | undefined;
    try {
      // A bot as `npm start` runs it, on the fleet's Redis, serving no HTTP: it carries jobs like any process.
      bot = startBotChild(workDir, {
        DISCORD_TOKEN: discord.token,
        DISCORD_APPLICATION_ID: discord.applicationId,
        DISCORD_API_URL: discord.apiUrl,
        COMFY_URLS: `emu=${emulator.url}`,
        STORE_URL: redis.url,
        COMFYCORD_PROCESS_NAME: 'bot-only',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      });
      const started = bot;
      const web = await startWeb('web-front');
      await until(
        async () => (started.output.join('').includes('"msg":"connected to Discord"') ? true : undefined),
        () => `the bot to connect\n${started.output.join('')}`,
        [web],
      );
      // Generations through the web process until one is carried by the bot (BullMQ hands jobs out in turn).
      let carriedByBot = false;
      for (let round = 0; round < 6 && !carriedByBot; round++) {
        const prompt = `a heron the bot carried, round ${round}`;
        const created = await api(web, 'POST', '/v1/generations', { prompt: `${prompt} --steps 2` }, CAROL);
        expect(created.status).toBe(201);
        const done = await ended(web, created.body.id as string, [web], CAROL);
        expect(done.status, JSON.stringify(done)).toBe('succeeded');
        expect(done.outputs).toHaveLength(1);
        carriedByBot = emulator.received.some(
          (received) => JSON.stringify(received.prompt).includes(prompt) && received.clientId?.includes('-bot-only-'),
        );
      }
      expect(carriedByBot).toBe(true);
      web.child.kill('SIGTERM');
      expect((await web.exited).code, web.output.join('')).toBe(0);
    } finally {
      bot?.child.kill('SIGTERM');
      if (bot) expect((await bot.exited).code, bot.output.join('')).toBe(0);
      await discord.close();
    }
  }, 240_000);
});
