import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ComfyExecutionError,
  ComfyInterruptedError,
  ComfyStalledError,
  ComfyUnreachableError,
  ComfyValidationError,
} from '../../src/comfy/errors.js';
import { ComfyClient } from '../../src/comfy/client.js';
import { textToImage } from './fixtures/graphs.js';
import { recordFault } from '../faults/ledger.js';
import { Harness, next, record, startTestEmulator, VERSIONS, terminalCount } from './fixtures/harness.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(VERSIONS)('ComfyClient failures (ComfyUI %s)', (version) => {
  let harness: Harness;

  beforeEach(async () => {
    harness = new Harness(await startTestEmulator(version));
  });

  afterEach(async () => {
    await harness.close();
  });

  it('rejects a workflow the server refuses with 400, naming the node and the problem', async () => {
    const client = harness.client();
    const graph = textToImage();
    graph['5']!.inputs['width'] = 'abc';
    const error = await client.submit(graph).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ComfyValidationError);
    expect(error).toMatchObject({ status: 400, errorType: 'prompt_outputs_failed_validation' });
    expect(Object.keys((error as ComfyValidationError).nodeErrors)).toEqual(['5']);
    expect((error as ComfyValidationError).userMessage).toMatch(
      /^The image server rejected the workflow: node 5 \(EmptyLatentImage\)/,
    );
    expect(client.inFlight).toBe(0);
  });

  it('runs the valid outputs of a 200 with node errors, and warns on the job', async () => {
    const client = harness.client();
    const graph = textToImage();
    graph['10'] = { class_type: 'SaveImage', inputs: { images: ['8', 0, 0], filename_prefix: 'bad' } };
    const job = await client.submit(graph);
    expect(Object.keys(job.warnings)).toEqual(['10']);
    const outcome = await job.done;
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: [{ node: '9' }] });
    if (outcome.status === 'succeeded') expect(Object.keys(outcome.warnings)).toEqual(['10']);
  });

  it('fails a 200 with node errors when every output the caller needs was dropped', async () => {
    const client = harness.client();
    const graph = textToImage();
    graph['10'] = { class_type: 'SaveImage', inputs: { images: ['8', 0, 0], filename_prefix: 'bad' } };
    const error = await client.submit(graph, { outputs: ['10'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ComfyValidationError);
    expect(error).toMatchObject({ status: 200, errorType: 'requested_outputs_invalid' });
    expect(client.inFlight).toBe(0);
  });

  it('fails with the node, its type and the exception when a node raises', async () => {
    harness.emu.faults.failNode({ classType: 'VAEDecode' }, 'boom');
    const client = harness.client();
    const job = await client.submit(textToImage());
    const events = record(job);
    const outcome = await job.done;
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(ComfyExecutionError);
    expect(outcome.error.userMessage).toBe('Node 8 (VAEDecode) failed: boom');
    expect(outcome.error).toMatchObject({ failure: { nodeId: '8', nodeType: 'VAEDecode' } });
    expect(terminalCount(events)).toBe(1);
  });

  it('interrupts a running prompt', async () => {
    harness.emu.faults.stepMs = 50;
    const client = harness.client();
    const job = await client.submit(textToImage({ steps: 200 }));
    await next(job, 'progress');
    await client.cancel(job.promptId);
    const outcome = await job.done;
    expect(outcome.status).toBe('interrupted');
    if (outcome.status !== 'interrupted') return;
    expect(outcome.error).toBeInstanceOf(ComfyInterruptedError);
    expect(outcome.error).toMatchObject({ whileQueued: false, identifier: 'comfy-interrupted' });
  });

  it('removes a pending prompt from the queue, which then never runs', async () => {
    harness.emu.faults.stepMs = 50;
    const client = harness.client();
    const running = await client.submit(textToImage({ steps: 200 }));
    await next(running, 'started');
    const pending = await client.submit(textToImage({ steps: 200, seed: 7 }));
    expect(await next(pending, 'queued')).toEqual({ type: 'queued', position: 1 });
    const events = record(pending);
    await pending.cancel();
    const outcome = await pending.done;
    expect(outcome).toMatchObject({ status: 'interrupted', error: { whileQueued: true } });
    expect(events.some((event) => event.type === 'started')).toBe(false);
    await running.cancel();
    expect((await running.done).status).toBe('interrupted');
  });

  it('keeps a job whose node runs longer than the stall timeout, because the server lists it as running', async () => {
    const client = harness.client({ stallTimeoutMs: 300 });
    // Each sampler step is silent for five stall timeouts, as a video encode or a model load is.
    harness.emu.faults.stepMs = 1_500;
    const job = await client.submit(textToImage({ steps: 2 }));
    const events = record(job);
    const outcome = await job.done;
    expect(outcome).toMatchObject({ status: 'succeeded', outputs: [{ node: '9' }] });
    recordFault('a node runs for minutes without a word', [
      { deliveries: events.filter((event) => event.type === 'succeeded').length },
    ]);
  });

  it('keeps a job waiting behind a long silent node, because the server lists it as pending', async () => {
    const client = harness.client({ stallTimeoutMs: 300 });
    harness.emu.faults.stepMs = 1_000;
    const first = await client.submit(textToImage({ steps: 2 }));
    const second = await client.submit(textToImage({ steps: 1, seed: 7 }));
    expect((await first.done).status).toBe('succeeded');
    expect((await second.done).status).toBe('succeeded');
  });

  it('fails a job with the stall error when the server answers but never lists the prompt', async () => {
    // A reverse proxy whose ComfyUI hangs: every route answers 502, so nothing about the prompt can be learned.
    const proxy = createHttpServer((_request, response) => response.writeHead(502).end('Bad Gateway'));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    const client = new ComfyClient({
      name: 'proxied',
      baseUrl: `http://127.0.0.1:${port}`,
      reconnect: { minMs: 20, maxMs: 100 },
      poll: { minMs: 20, maxMs: 100 },
      stallTimeoutMs: 300,
    });
    try {
      const outcome = await client.follow('00000000-0000-4000-8000-000000000001').done;
      expect(outcome.status).toBe('failed');
      if (outcome.status !== 'failed') return;
      expect(outcome.error).toBeInstanceOf(ComfyStalledError);
      expect(outcome.error.userMessage).toBe('The image server stopped making progress on this job; please try again.');
    } finally {
      await client.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('fails fast with a clear error when the server refuses connections', async () => {
    harness.emu.faults.refuseConnections(true);
    const client = harness.client();
    const started = Date.now();
    const error = await client.submit(textToImage()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ComfyUnreachableError);
    expect((error as ComfyUnreachableError).userMessage).toBe(
      'The image server could not be reached; please try again in a minute.',
    );
    // Generous bound: the point is seconds, not the minutes of a default TCP timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
    harness.emu.faults.refuseConnections(false);
  });

  it('fails fast when nothing listens on the port', async () => {
    const client = new ComfyClient({ name: 'nowhere', baseUrl: `http://127.0.0.1:${await closedPort()}` });
    try {
      const started = Date.now();
      await expect(client.submit(textToImage())).rejects.toBeInstanceOf(ComfyUnreachableError);
      await expect(client.queue()).rejects.toMatchObject({ identifier: 'comfy-unreachable', server: 'nowhere' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await client.close();
    }
  });
});
