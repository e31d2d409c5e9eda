/**
 * `npm run web` killed with SIGKILL: a real process (src/web/main.ts) is killed while ComfyUI renders its generation,
 * while a webhook receiver holds the webhook, or by `COMFYCORD_FAULT_POINT` at one named step of creating a generation
 * or of ending it, then started again on the same store and data directory. Whatever the moment, the generation ends
 * and is readable, ComfyUI ran its prompt once, the webhook's message (one `webhook-id`) is received exactly once or
 * resent under the same id, and the Idempotency-Key still names that one generation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ALICE, WEBHOOK_SECRET } from './harness.js';
import { startWebChild, type WebChild } from './web-process.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhook-receiver.js';
import { recordFault } from '../faults/ledger.js';

let emulator: Emulator;
let receiver: WebhookReceiver;
let receiverUrl: string;
let deliveries: ReceivedWebhook[];
/** When set, the receiver keeps the next request open (never answers it) and calls this instead. */
let holdNext: ((response: ServerResponse) => void) | undefined;
const children: WebChild[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ stepMs: 20 });
  receiver = await startWebhookReceiver((response) => {
    const hold = holdNext;
    holdNext = undefined;
    if (hold) hold(response);
    else response.writeHead(204).end();
  });
  ({ url: receiverUrl, received: deliveries } = receiver);
});

afterAll(async () => {
  for (const web of children) web.child.kill('SIGKILL');
  await receiver?.close();
  await emulator?.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function newWorkDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'comfycord-web-crash-'));
  dirs.push(dir);
  return dir;
}

/** Starts the web process on `workDir`'s store, killing itself at `faultPoint` if one is given. */
function startWeb(workDir: string, faultPoint?: string): WebChild {
  const web = startWebChild(workDir, {
    COMFY_URLS: `emu=${emulator.url}`,
    STORE_URL: `sqlite://${path.join(workDir, 'web.sqlite')}`,
    WEB_API_KEYS: `alice:${ALICE}`,
    WEB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    WEB_WEBHOOK_ALLOW: `${receiverUrl}/hooks/`,
    WEB_WEBHOOK_PRIVATE_NETWORKS: '127.0.0.1',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...(faultPoint === undefined ? {} : { COMFYCORD_FAULT_POINT: faultPoint }),
  });
  children.push(web);
  return web;
}

// The API's answers are JSON objects; the test reads them loosely.
async function api(web: WebChild, method: string, route: string, init: { json?: unknown; key?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${ALICE}` };
  if (init.key !== undefined) headers['idempotency-key'] = init.key;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${web.url}${route}`, {
    method,
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, web: WebChild): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${web.output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The generation once it ended. */
async function ended(web: WebChild, id: string) {
  return until(
    async () => {
      const { body } = await api(web, 'GET', `/v1/generations/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    `generation ${id} to end`,
    web,
  );
}

const messagesFor = (id: string) => deliveries.filter((delivery) => delivery.headers['webhook-id'] === `msg_${id}`);
const promptsRun = (prompt: string) =>
  emulator.received.filter((received) => JSON.stringify(received.prompt).includes(prompt)).length;

/** Checks what every scenario ends with: succeeded with its file, run once, one webhook, the key naming it. */
async function expectExactlyOnce(web: WebChild, id: string, prompt: string, request: { json: unknown; key: string }) {
  const done = await ended(web, id);
  expect(done.status).toBe('succeeded');
  expect((await fetch(`${web.url}${done.outputs[0].url}`)).status).toBe(200);
  await until(() => (messagesFor(id).length > 0 ? true : undefined), 'the webhook', web);
  // Room for a second message, were one to come.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const messages = messagesFor(id);
  expect(new Set(messages.map((message) => message.body)).size).toBe(1);
  expect(JSON.parse(messages[0]!.body)).toMatchObject({ type: 'generation.succeeded', data: { id } });
  const retry = await api(web, 'POST', '/v1/generations', request);
  expect(retry.status).toBe(201);
  expect(retry.body.id).toBe(id);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  const history = await api(web, 'GET', '/v1/generations');
  expect(history.body.data.map((generation: { id: string }) => generation.id)).toEqual([id]);
  expect(promptsRun(prompt)).toBe(1);
  return messages;
}

async function stop(web: WebChild): Promise<void> {
  web.child.kill('SIGTERM');
  expect((await web.exited).code, web.output.join('')).toBe(0);
}

describe('npm run web killed (SIGKILL) while ComfyUI renders', () => {
  it('follows the generation after the restart: it succeeds, its webhook comes once, its key still names it', async () => {
    const workDir = await newWorkDir();
    const first = startWeb(workDir);
    await first.ready;
    const prompt = 'a glacier killed mid-render';
    const request = {
      json: { prompt: `${prompt} --steps 40`, webhook: `${receiverUrl}/hooks/render` },
      key: 'k-render',
    };
    emulator.faults.stepMs = 100;
    const created = await api(first, 'POST', '/v1/generations', request);
    expect(created.status).toBe(201);
    await until(
      async () =>
        (await api(first, 'GET', `/v1/generations/${created.body.id}`)).body.status === 'running' ? true : undefined,
      'it to run',
      first,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    emulator.faults.stepMs = 20;

    const second = startWeb(workDir);
    await second.ready;
    const messages = await expectExactlyOnce(second, created.body.id, prompt, request);
    expect(messages).toHaveLength(1);
    recordFault('npm run web killed (SIGKILL) mid-render', [{ deliveries: messages.length }]);
    await stop(second);
  }, 150_000);
});

describe('npm run web killed (SIGKILL) after the generation ended, before its webhook was received', () => {
  it.each(['web:after-outcome', 'web:before-webhook'])(
    'killed at %s, the next start sends the webhook exactly once',
    async (point) => {
      const workDir = await newWorkDir();
      const first = startWeb(workDir, point);
      await first.ready;
      const prompt = `a lighthouse for ${point}`;
      const request = {
        json: { prompt: `${prompt} --steps 2`, webhook: `${receiverUrl}/hooks/end` },
        key: `k-${point}`,
      };
      const created = await api(first, 'POST', '/v1/generations', request);
      expect(created.status).toBe(201);
      expect(await first.exited, first.output.join('')).toEqual({ code: null, signal: 'SIGKILL' });
      expect(messagesFor(created.body.id)).toHaveLength(0);

      const second = startWeb(workDir);
      await second.ready;
      const messages = await expectExactlyOnce(second, created.body.id, prompt, request);
      expect(messages).toHaveLength(1);
      recordFault('npm run web killed (SIGKILL) between the end and the webhook', [{ deliveries: messages.length }]);
      await stop(second);
    },
    150_000,
  );

  it('killed while the receiver holds the webhook, the next start resends it under the same webhook-id', async () => {
    const workDir = await newWorkDir();
    const first = startWeb(workDir);
    await first.ready;
    const prompt = 'a lighthouse with a slow receiver';
    const request = { json: { prompt: `${prompt} --steps 2`, webhook: `${receiverUrl}/hooks/slow` }, key: 'k-slow' };
    const held = new Promise<ServerResponse>((resolve) => (holdNext = resolve));
    const created = await api(first, 'POST', '/v1/generations', request);
    const response = await held;
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    response.writeHead(204).end();

    const second = startWeb(workDir);
    await second.ready;
    const messages = await expectExactlyOnce(second, created.body.id, prompt, request);
    // Received twice, as one message: a receiver that drops repeated webhook-ids acts on it once.
    expect(messages).toHaveLength(2);
    expect(new Set(messages.map((message) => message.headers['webhook-id'])).size).toBe(1);
    recordFault('npm run web killed (SIGKILL) while a receiver held the webhook', [{ deliveries: 1 }]);
    await stop(second);
  }, 150_000);
});

describe('npm run web killed (SIGKILL) while creating a generation', () => {
  it.each(['web:after-idempotency-key', 'web:after-record', 'web:after-enqueue'])(
    'killed at %s, the retry with the same Idempotency-Key gets one generation that runs once, with one webhook',
    async (point) => {
      const workDir = await newWorkDir();
      const first = startWeb(workDir, point);
      await first.ready;
      const prompt = `a fox created across ${point}`;
      const request = {
        json: { prompt: `${prompt} --steps 2`, webhook: `${receiverUrl}/hooks/create` },
        key: `k-${point}`,
      };
      await expect(api(first, 'POST', '/v1/generations', request)).rejects.toThrow();
      expect(await first.exited, first.output.join('')).toEqual({ code: null, signal: 'SIGKILL' });

      const second = startWeb(workDir);
      await second.ready;
      // Without a retry: nothing (only the key was kept), or a generation the start finished by itself.
      const before = (await api(second, 'GET', '/v1/generations')).body.data as { id: string }[];
      expect(before).toHaveLength(point === 'web:after-idempotency-key' ? 0 : 1);
      if (before.length === 1) expect((await ended(second, before[0]!.id)).status).toBe('succeeded');

      const retry = await api(second, 'POST', '/v1/generations', request);
      expect(retry.status).toBe(201);
      const messages = await expectExactlyOnce(second, retry.body.id, prompt, request);
      if (before.length === 1) expect(retry.body.id).toBe(before[0]!.id);
      expect(messages).toHaveLength(1);
      recordFault('npm run web killed (SIGKILL) while creating a generation', [{ deliveries: messages.length }]);
      await stop(second);
    },
    150_000,
  );
});
