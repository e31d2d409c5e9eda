/**
 * The web face's rig: the ComfyUI emulator and `startWeb` (what `npm run web` runs) over sockets on 127.0.0.1, with a
 * fresh SQLite file per rig and two API keys. `api()` calls the API as one of the keys; `events()` reads an event
 * stream to its end.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/logger.js';
import { startWeb, type WebApp } from '../../src/web/start.js';

export const ALICE = 'alice-key-0123456789abcdef';
export const BOB = 'bob-key-0123456789abcdef00';
export const WEBHOOK_SECRET = `whsec_${Buffer.from('comfycord-test-webhook-secret!!').toString('base64')}`;

export interface WebRigOptions {
  readonly emulator?: EmulatorOptions;
  readonly env?: Record<string, string>;
  readonly pageDir?: string;
}

export interface WebRig {
  readonly emulator: Emulator;
  readonly app: WebApp;
  readonly url: string;
  readonly dataDir: string;
  /** Calls the API as `key` (Alice by default). */
  api(method: string, route: string, options?: ApiCall): Promise<ApiAnswer>;
  /** Stops the web app and starts a new one on the same data directory. */
  restart(): Promise<WebApp>;
  /** Stops the web app only (the emulator keeps running). */
  stopApp(): Promise<void>;
  /** Starts a new web app on the same data directory. */
  startApp(): Promise<WebApp>;
  close(): Promise<void>;
}

export interface ApiCall {
  readonly json?: unknown;
  readonly body?: string | FormData;
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
}

export interface ApiAnswer {
  readonly status: number;
  readonly type: string | null;
  readonly headers: Headers;
  // The API's answers are JSON objects; tests read them loosely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** Starts the emulator and the web face. */
export async function startWebRig(options: WebRigOptions = {}): Promise<WebRig> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'comfycord-web-'));
  const emulator = await startEmulator({ stepMs: 2, ...options.emulator });
  const start = () =>
    startWeb({
      config: loadConfig(
        {
          COMFY_URLS: `emu=${emulator.url}`,
          STORE_URL: `sqlite://${path.join(dataDir, 'comfycord.sqlite')}`,
          HTTP_PORT: '0',
          WEB_API_KEYS: `alice:${ALICE},bob:${BOB}`,
          LOG_LEVEL: 'silent',
          ...options.env,
        },
        { interactive: false },
      ),
      logger: silentLogger(),
      dataDir,
      pageDir: options.pageDir,
      webhookBackoffMs: [100, 200, 300],
    });
  let app = await start();
  let running = true;
  const rig: WebRig = {
    emulator,
    get app() {
      return app;
    },
    get url() {
      return app.url;
    },
    dataDir,
    async api(method, route, call = {}) {
      const headers: Record<string, string> = { ...call.headers };
      const key = call.key === undefined ? ALICE : call.key;
      if (key !== null) headers['authorization'] = `Bearer ${key}`;
      if (call.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${app.url}${route}`, {
        method,
        headers,
        body: call.json !== undefined ? JSON.stringify(call.json) : call.body,
      });
      const text = await response.text();
      const type = response.headers.get('content-type');
      const body = type?.includes('json') ? JSON.parse(text) : text;
      return { status: response.status, type, headers: response.headers, body };
    },
    async restart() {
      await rig.stopApp();
      return rig.startApp();
    },
    async stopApp() {
      if (running) await app.stop();
      running = false;
    },
    async startApp() {
      app = await start();
      running = true;
      return app;
    },
    async close() {
      if (running) await app.stop();
      running = false;
      await emulator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** One server-sent event. */
export interface StreamEvent {
  readonly id: string | undefined;
  readonly event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any;
}

/** Reads an event stream until the server closes it (or `stopWhen` says so); returns every event in order. */
export async function readEvents(
  url: string,
  options: { key?: string; lastEventId?: string; stopWhen?: (event: StreamEvent) => boolean } = {},
): Promise<StreamEvent[]> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? ALICE}` };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  if (response.status !== 200) throw new Error(`event stream answered ${response.status}: ${await response.text()}`);
  const events: StreamEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event === undefined) continue;
        events.push(event);
        if (options.stopWhen?.(event)) {
          controller.abort();
          return events;
        }
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return events;
}

function parseBlock(block: string): StreamEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const [field, ...rest] = line.split(':');
    const value = rest.join(':').replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { id, event, data: JSON.parse(data.join('\n')) };
}

/** Polls a generation until `accept` holds. */
export async function waitFor(
  rig: WebRig,
  id: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  accept: (generation: any) => boolean,
  what: string,
  timeoutMs = 20_000,
  key = ALICE,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await rig.api('GET', `/v1/generations/${id}`, { key });
    if (accept(answer.body)) return answer.body;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
