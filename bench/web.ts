/**
 * The web face: how fast `POST /v1/generations` answers (time to its first byte, one request at a time and 16 at
 * once), and how soon a client learns that an image is done — over the API's Server-Sent Events, beside the seed
 * demo's way (poll ComfyUI's `/history/{id}` every second, then fetch the image from `/view`), both watching the same
 * jobs in the same run. Latency is measured from the server's `execution_success` (its timestamp in `/history`) to the
 * client holding the `end` event (whose outputs are already kept and served) or, for the seed's way, the image bytes.
 *
 * The web app runs in this process (`startWeb`, what `npm run web` runs) with the emulator: unlike the Discord
 * benchmarks, there is no fake to keep apart from it.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.js';
import { startEmulator } from '../src/emulator/index.js';
import { mulberry32 } from '../src/emulator/media/synthesize.js';
import { silentLogger } from '../src/logger.js';
import { startWeb, type WebApp } from '../src/web/start.js';
import { promptIdOf, promptRuns } from './lib/comfy-history.js';
import type { BenchResult } from './lib/report.js';
import { summarize } from './lib/stats.js';

export interface WebBenchOptions {
  /** Requests for the time-to-first-byte figures, one at a time (and as many again 16 at once). */
  readonly requests: number;
  /** Jobs watched by both clients. */
  readonly jobs: number;
  readonly stepMs: number;
  /** The seed's polling interval. */
  readonly pollMs: number;
}

export const WEB_DEFAULTS: WebBenchOptions = { requests: 300, jobs: 20, stepMs: 25, pollMs: 1000 };

const KEY = 'bench-key-0123456789abcdef';

/** Runs the web benchmark. */
export async function runWebBench(options: WebBenchOptions = WEB_DEFAULTS): Promise<BenchResult> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'comfycord-bench-web-'));
  const emulator = await startEmulator({ stepMs: 0, previews: true });
  const app = await startWeb({
    config: loadConfig(
      {
        COMFY_URLS: `emu=${emulator.url}`,
        STORE_URL: `sqlite://${path.join(dataDir, 'web.sqlite')}`,
        WORKFLOWS_DIR: path.join(import.meta.dirname, 'workflows'),
        HTTP_PORT: '0',
        WEB_API_KEYS: `bench:${KEY}`,
        MAX_JOBS_PER_MEMBER: '1000',
        MAX_QUEUE_LENGTH: '100000',
        LOG_LEVEL: 'silent',
      },
      { interactive: false },
    ),
    logger: silentLogger(),
    dataDir,
  });
  try {
    const body = (index: number) => JSON.stringify({ prompt: `ttfb ${index}`, workflow: 'bench-tiny' });
    await post(app, body(-1));
    const sequential: number[] = [];
    for (let index = 0; index < options.requests; index += 1) sequential.push((await post(app, body(index))).ttfbMs);
    const concurrent: number[] = [];
    for (let round = 0; round < options.requests / 16; round += 1) {
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, slot) => post(app, body(options.requests + round * 16 + slot))),
      );
      concurrent.push(...answers.map((answer) => answer.ttfbMs));
    }
    await drain(app);

    emulator.faults.stepMs = options.stepMs;
    const watched = await watchJobs(app, emulator.url, emulator.received, options);
    const ttfb = summarize(sequential);
    const ttfb16 = summarize(concurrent);
    const sse = summarize(watched.map((job) => job.sseMs));
    const polled = summarize(watched.map((job) => job.pollMs));
    return {
      name: 'web',
      title: 'The web API: POST /v1/generations, and learning that an image is done',
      figures: [
        { label: 'POST TTFB p50 (one at a time)', value: ttfb.median, unit: 'ms', target: { op: '<', value: 10 } },
        { label: 'POST TTFB p99 (one at a time)', value: ttfb.p99, unit: 'ms' },
        { label: 'POST TTFB p50 (16 at once)', value: ttfb16.median, unit: 'ms' },
        { label: 'POST TTFB p99 (16 at once)', value: ttfb16.p99, unit: 'ms' },
        { label: 'done -> SSE end p50', value: sse.median, unit: 'ms', target: { op: '<', value: 50 } },
        { label: 'done -> SSE end p99', value: sse.p99, unit: 'ms' },
        { label: `done -> image, seed's ${options.pollMs} ms polling p50`, value: polled.median, unit: 'ms' },
        { label: `done -> image, seed's ${options.pollMs} ms polling p99`, value: polled.p99, unit: 'ms' },
        { label: 'seed polling / SSE (p50)', value: polled.median / sse.median, unit: '×' },
      ],
      details: { options, ttfb, ttfb16, sse, polled, samples: watched },
    };
  } finally {
    await app.stop();
    await emulator.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** POSTs a generation; resolves with the time to the answer's first byte and the generation. */
function post(app: WebApp, body: string): Promise<{ ttfbMs: number; id: string; events: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL('/v1/generations', app.url);
    const started = performance.now();
    const outgoing = request(
      url,
      { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } },
      (response) => {
        const ttfbMs = performance.now() - started;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            id?: string;
            urls?: { events: string };
          };
          if (response.statusCode !== 201 || !answer.id) reject(new Error(`POST answered ${response.statusCode}`));
          else resolve({ ttfbMs, id: answer.id, events: answer.urls!.events });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Waits until every job of the TTFB runs has ended, so they do not stand in the way of the latency runs. */
async function drain(app: WebApp): Promise<void> {
  while (app.engine.runner.snapshot().waiting.length + app.engine.runner.snapshot().active.length > 0) await sleep(100);
}

interface Watched {
  readonly sseMs: number;
  readonly pollMs: number;
  readonly renderMs: number;
}

async function watchJobs(
  app: WebApp,
  comfyUrl: string,
  received: ReadonlyArray<{ promptId: string; prompt: Record<string, unknown> }>,
  options: WebBenchOptions,
): Promise<Watched[]> {
  const steps = mulberry32(11);
  const watched: Watched[] = [];
  // The first job warms everything up; it is not counted.
  for (let index = 0; index <= options.jobs; index += 1) {
    const prompt = `latency ${index}`;
    const created = await post(
      app,
      JSON.stringify({ prompt: `${prompt} --steps ${10 + Math.floor(steps() * 41)}`, workflow: 'bench-1mib' }),
    );
    const sseEnd = streamUntilEnd(new URL(created.events, app.url));
    let promptId: string | undefined;
    while ((promptId = promptIdOf(received, prompt)) === undefined) await sleep(1);
    const [sseAt, polledAt] = await Promise.all([sseEnd, seedPoll(comfyUrl, promptId, options.pollMs)]);
    const run = (await promptRuns(comfyUrl)).find((candidate) => candidate.promptId === promptId);
    if (!run) throw new Error(`no finished run of ${prompt}`);
    if (index > 0) {
      watched.push({
        sseMs: sseAt - run.succeededAt,
        pollMs: polledAt - run.succeededAt,
        renderMs: run.succeededAt - run.startedAt,
      });
    }
  }
  return watched;
}

/** Follows an event stream; resolves with `Date.now()` when its `end` event arrives. */
function streamUntilEnd(url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers: { authorization: `Bearer ${KEY}` } }, (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        if (/(^|\n)event: end\n/.test(buffer)) {
          const at = Date.now();
          response.destroy();
          resolve(at);
        }
      });
      response.on('end', () => reject(new Error('the event stream closed before its end event')));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** The seed demo's loop: `/history/{id}` every `intervalMs` from the submission, then the image from `/view`. */
async function seedPoll(comfyUrl: string, promptId: string, intervalMs: number): Promise<number> {
  for (;;) {
    await sleep(intervalMs);
    const history = (await (await fetch(`${comfyUrl}/history/${promptId}`)).json()) as Record<
      string,
      { outputs?: Record<string, { images?: { filename: string; subfolder: string; type: string }[] }> }
    >;
    const image = Object.values(history[promptId]?.outputs ?? {}).flatMap((output) => output.images ?? [])[0];
    if (!image) continue;
    const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
    await (await fetch(`${comfyUrl}/view?${query}`)).arrayBuffer();
    return Date.now();
  }
}
