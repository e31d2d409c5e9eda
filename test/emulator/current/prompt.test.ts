/**
 * The emulator's `current` mode at POST /prompt, held to PROTOCOL-current.md §2: canonical UUID prompt ids,
 * `missing_node_type`, `extra_data.create_time`; and 0.3.64 mode unchanged beside it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { basicGraph } from '../graphs.js';
import { getJson, historyEntry, postJson, queuePrompt } from '../http.js';
import { waitForJob } from './helpers.js';

const INVALID_PROMPT_ID = {
  error: {
    type: 'invalid_prompt_id',
    message: 'prompt_id must be a valid UUID',
    details:
      'prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one',
    extra_info: {},
  },
  node_errors: {},
};

describe('the current-mode emulator at POST /prompt', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 1, version: 'current' });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it.each([
    ['an uppercase UUID', '8E3B3A1C-6F2D-4B8E-9C1A-2D3E4F5A6B7C'],
    ['a braced UUID', '{8e3b3a1c-6f2d-4b8e-9c1a-2d3e4f5a6b7c}'],
    ['a urn', 'urn:uuid:8e3b3a1c-6f2d-4b8e-9c1a-2d3e4f5a6b7c'],
    ['32 hex digits', '8e3b3a1c6f2d4b8e9c1a2d3e4f5a6b7c'],
    ['a name', 'job-1'],
    ['a number', 123],
  ])('refuses %s as prompt id with 400 invalid_prompt_id', async (_what, promptId) => {
    const answer = await postJson(emulator.url, '/prompt', { prompt: basicGraph(), prompt_id: promptId });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(INVALID_PROMPT_ID);
  });

  it('bumps the number counter before checking the prompt id', async () => {
    const before = await queuePrompt(emulator.url, { prompt: basicGraph() });
    await postJson(emulator.url, '/prompt', { prompt: basicGraph(), prompt_id: 'job-1' });
    const after = await queuePrompt(emulator.url, { prompt: basicGraph() });
    expect(after.number).toBe(before.number + 2);
  });

  it('takes a canonical lowercase UUID verbatim and mints one for an absent or null id', async () => {
    const ours = '8e3b3a1c-6f2d-4b8e-9c1a-2d3e4f5a6b7c';
    expect((await queuePrompt(emulator.url, { prompt: basicGraph(), prompt_id: ours })).prompt_id).toBe(ours);
    const minted = await queuePrompt(emulator.url, { prompt: basicGraph(), prompt_id: null });
    expect(minted.prompt_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('reports an unknown class_type as missing_node_type, naming the title when there is one', async () => {
    const graph: Record<string, unknown> = { ...basicGraph(), '2': { class_type: 'NoSuchNode', inputs: {} } };
    expect((await postJson(emulator.url, '/prompt', { prompt: graph })).body).toEqual({
      error: {
        type: 'missing_node_type',
        message: "Node 'NoSuchNode' not found. The custom node may not be installed.",
        details: "Node ID '#2'",
        extra_info: { node_id: '2', class_type: 'NoSuchNode', node_title: 'NoSuchNode' },
      },
      node_errors: {},
    });
    graph['2'] = { class_type: 'NoSuchNode', inputs: {}, _meta: { title: 'My Upscaler' } };
    const titled = await postJson<{ error: Record<string, unknown> }>(emulator.url, '/prompt', { prompt: graph });
    expect(titled.status).toBe(400);
    expect(titled.body.error).toMatchObject({
      message: "Node 'My Upscaler' not found. The custom node may not be installed.",
      extra_info: { node_id: '2', class_type: 'NoSuchNode', node_title: 'My Upscaler' },
    });
  });

  it('reports a node without class_type as missing_node_type', async () => {
    const graph: Record<string, unknown> = { ...basicGraph(), '2': { inputs: {} } };
    const answer = await postJson(emulator.url, '/prompt', { prompt: graph });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: {
        type: 'missing_node_type',
        message: "Node 'ID #2' has no class_type. The workflow may be corrupted or a custom node is missing.",
        details: "Node ID '#2'",
        extra_info: { node_id: '2', class_type: null, node_title: null },
      },
      node_errors: {},
    });
  });

  it('stamps extra_data.create_time (int ms) on valid prompts, kept in history', async () => {
    const before = Date.now();
    const { prompt_id: id } = await queuePrompt(emulator.url, {
      prompt: basicGraph(),
      client_id: 'c1',
      extra_data: { api_key_comfy_org: 'secret' },
    });
    await waitForJob(emulator.url, id);
    const entry = await historyEntry<{ prompt: unknown[] }>(emulator.url, id);
    const extraData = entry.prompt[3] as Record<string, unknown>;
    expect(Object.keys(extraData)).toEqual(['client_id', 'create_time']);
    expect(Number.isInteger(extraData['create_time'])).toBe(true);
    expect(extraData['create_time']).toBeGreaterThanOrEqual(before);
    expect(extraData['create_time']).toBeLessThanOrEqual(Date.now());
  });
});

describe('the 0.3.64-mode emulator beside it', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 1 });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('takes any prompt id verbatim and adds no create_time', async () => {
    const { prompt_id: id } = await queuePrompt(emulator.url, { prompt: basicGraph(), prompt_id: 'job-1' });
    expect(id).toBe('job-1');
    const { body } = await getJson<{ queue_pending: unknown[][]; queue_running: unknown[][] }>(emulator.url, '/queue');
    const item = [...body.queue_running, ...body.queue_pending].find((entry) => entry[1] === 'job-1');
    if (item) expect(item[3]).not.toHaveProperty('create_time');
  });

  it('still says invalid_prompt for an unknown node type', async () => {
    const graph: Record<string, unknown> = { ...basicGraph(), '2': { class_type: 'NoSuchNode', inputs: {} } };
    const answer = await postJson<{ error: { type: string } }>(emulator.url, '/prompt', { prompt: graph });
    expect(answer.body.error.type).toBe('invalid_prompt');
  });

  it('answers 404 at every jobs route, as 0.3.64 did', async () => {
    const id = '8e3b3a1c-6f2d-4b8e-9c1a-2d3e4f5a6b7c';
    for (const [method, path] of [
      ['GET', '/api/jobs'],
      ['GET', `/api/jobs/${id}`],
      ['POST', `/api/jobs/${id}/cancel`],
      ['POST', '/api/jobs/cancel'],
    ] as const) {
      const response = await fetch(`${emulator.url}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
      expect({ path, status: response.status, text: await response.text() }).toEqual({
        path,
        status: 404,
        text: '404: Not Found',
      });
    }
  });
});
