/**
 * Web processes of one fleet (`npm run web` on a real redis-server), started at once after one of them was killed
 * (SIGKILL) between writing a generation's record and making its job: every start finishes the pending generations it
 * finds, and the generation must become one job, run once, with one webhook.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';
import { ALICE, WEBHOOK_SECRET } from '../web/harness.js';
import { startWebChild, type WebChild } from '../web/web-process.js';

const runRedis = shouldRunRedisTests('fleet web suite');

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
  emulator = await startEmulator({ stepMs: 20 });
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
    WEB_API_KEYS: `alice:${ALICE}`,
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
async function api(web: WebChild, method: string, route: string, json?: unknown) {
  const response = await fetch(`${web.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, body: (await response.json()) as any };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, webs: WebChild[]): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}\n${webs.map((web) => web.output.join('')).join('\n')}`);
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
