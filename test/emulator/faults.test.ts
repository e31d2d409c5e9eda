import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { basicGraph, RECORDED_CHECKPOINT, textToImageGraph } from './graphs.js';
import { getJson, queuePrompt } from './http.js';
import { connectClient, isPromptDone, isText, textData, type RecordingClient } from './ws-client.js';

const CLIENT = 'fault-client';

describe('emulator faults', () => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeEach(async () => {
    emulator = await startEmulator({ stepMs: 2, checkpoints: [RECORDED_CHECKPOINT] });
    client = await connectClient(emulator.url, CLIENT);
    await client.waitFor(isText('status'));
  });

  afterEach(async () => {
    await client.close();
    await emulator.close();
  });

  async function run(graph: object): Promise<{ promptId: string; from: number }> {
    const from = client.events.length;
    const answer = await queuePrompt(emulator.url, { prompt: graph, client_id: CLIENT });
    await client.waitFor(isPromptDone(answer.prompt_id), from);
    return { promptId: answer.prompt_id, from };
  }

  it('fails a node chosen by class with the given exception until failures are cleared', async () => {
    emulator.faults.failNode({ classType: 'ImageInvert' }, 'CUDA out of memory', 'torch.OutOfMemoryError');
    const failed = await run(basicGraph(1));
    const error = client.events.slice(failed.from).find(isText('execution_error'));
    expect(textData(error)).toMatchObject({
      node_id: '2',
      node_type: 'ImageInvert',
      exception_message: 'CUDA out of memory\n',
      exception_type: 'torch.OutOfMemoryError',
    });
    emulator.faults.clearFailures();
    const fine = await run(basicGraph(1));
    expect(client.events.slice(fine.from).some(isText('execution_success'))).toBe(true);
  });

  it('fails a node chosen by id', async () => {
    emulator.faults.failNode({ nodeId: '4' }, 'boom');
    const failed = await run(basicGraph(2));
    expect(textData(client.events.slice(failed.from).find(isText('execution_error')))).toMatchObject({
      node_id: '4',
      exception_type: 'Exception',
    });
  });

  it('drops every WebSocket and accepts the reconnect', async () => {
    const second = await connectClient(emulator.url, 'second');
    await second.waitFor(isText('status'));
    emulator.faults.dropWebSockets();
    await Promise.all([client.closed, second.closed]);
    const again = await connectClient(emulator.url, 'second');
    expect(textData(await again.waitFor(isText('status')))['sid']).toBe('second');
    await again.close();
  });

  it('refuses connections and then listens again on the same port', async () => {
    emulator.faults.refuseConnections(true);
    await expect(waitUntil(async () => !(await reachable(emulator.url)))).resolves.toBe(true);
    emulator.faults.refuseConnections(false);
    await expect(waitUntil(() => reachable(emulator.url))).resolves.toBe(true);
    expect((await getJson(emulator.url, '/queue')).status).toBe(200);
  });

  it('fails /system_stats alone with aiohttp’s bare 500 while the queue still answers, until turned off', async () => {
    emulator.faults.failSystemStats(true);
    const failing = await fetch(`${emulator.url}/system_stats`);
    expect(failing.status).toBe(500);
    expect(failing.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await failing.text()).toBe('500 Internal Server Error\n\nServer got itself in trouble');
    const queue = await fetch(`${emulator.url}/queue`);
    expect(queue.status).toBe(200);
    expect(await queue.json()).toEqual({ queue_running: [], queue_pending: [] });
    expect((await fetch(`${emulator.url}/interrupt`, { method: 'POST' })).status).toBe(200);
    emulator.faults.failSystemStats(false);
    expect((await fetch(`${emulator.url}/api/system_stats`)).status).toBe(200);
  });

  it('delays /view by viewDelayMs', async () => {
    await run(basicGraph(3));
    emulator.faults.viewDelayMs = 150;
    const started = performance.now();
    const response = await fetch(`${emulator.url}/view?filename=probe_00001_.png`);
    await response.arrayBuffer();
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('applies a stepMs change to the running sampler', async () => {
    emulator.faults.stepMs = 60_000;
    const answer = await queuePrompt(emulator.url, { prompt: textToImageGraph(1, 3), client_id: CLIENT });
    await client.waitFor(isTextWhereNode('executing', '3'));
    emulator.faults.stepMs = 0;
    await client.waitFor(isPromptDone(answer.prompt_id));
    expect(client.events.filter(isText('progress', answer.prompt_id))).toHaveLength(3);
  });

  it('forgets queue, history and caches on restart while still serving on the same port', async () => {
    const done = await run(basicGraph(4));
    emulator.faults.stepMs = 60_000;
    const running = await queuePrompt(emulator.url, { prompt: textToImageGraph(2, 5), client_id: CLIENT });
    const pending = await queuePrompt(emulator.url, { prompt: basicGraph(5), client_id: CLIENT });
    await client.waitFor(isTextWhereNode('executing', '3'));
    const port = emulator.port;
    await emulator.restart();
    emulator.faults.stepMs = 1;
    expect((await getJson(emulator.url, '/history')).body).toEqual({});
    expect((await getJson(emulator.url, '/queue')).body).toEqual({ queue_running: [], queue_pending: [] });
    expect(emulator.port).toBe(port);
    const fresh = await connectClient(emulator.url, CLIENT);
    await fresh.waitFor(isText('status'));
    const again = await queuePrompt(emulator.url, { prompt: basicGraph(4), client_id: CLIENT });
    expect(again.number).toBe(0);
    await fresh.waitFor(isPromptDone(again.prompt_id));
    const cached = textData(fresh.events.find(isText('execution_cached')));
    expect(cached['nodes']).toEqual([]);
    expect(fresh.events.some((event) => JSON.stringify(event).includes(running.prompt_id))).toBe(false);
    expect(fresh.events.some((event) => JSON.stringify(event).includes(pending.prompt_id))).toBe(false);
    expect(Object.keys((await getJson<object>(emulator.url, '/history')).body)).toEqual([again.prompt_id]);
    expect(done.promptId).not.toBe(again.prompt_id);
    await fresh.close();
  });
});

function isTextWhereNode(type: string, node: string) {
  return (event: Parameters<Parameters<RecordingClient['waitFor']>[0]>[0]) =>
    event.kind === 'text' && event.type === type && event.data['node'] === node;
}

async function reachable(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/prompt`, { headers: { connection: 'close' } });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(test: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('starting an emulator', () => {
  it('rejects when the port is taken and cleans up after itself', async () => {
    const first = await startEmulator();
    await expect(startEmulator({ port: first.port })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });
});
