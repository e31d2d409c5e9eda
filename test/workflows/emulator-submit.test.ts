import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch, FormData } from 'undici';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/logger.js';
import { bindWorkflow } from '../../src/workflows/bind.js';
import { loadWorkflows, type LoadedWorkflows } from '../../src/workflows/load.js';
import { buildReady, seedSource, SHIPPED_DIR, SHIPPED_NAMES } from './helpers.js';

/** Uploads a small real PNG the way the bot will, and returns the name LoadImage takes. */
async function uploadImage(emulator: Emulator): Promise<string> {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('image', new Blob([png], { type: 'image/png' }), 'comfycord-input.png');
  const response = await fetch(`${emulator.url}/upload/image`, { method: 'POST', body: form });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { name: string; subfolder: string };
  return body.subfolder ? `${body.subfolder}/${body.name}` : body.name;
}

async function submit(emulator: Emulator, graph: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}/prompt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: graph, client_id: 'workflow-smoke-test' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('shipped workflows on the emulator', () => {
  let emulator: Emulator;
  let workflows: LoadedWorkflows;
  let imageName: string;

  beforeAll(async () => {
    // Zero step time: the prompts are queued and run, but this test only reads the validation answer.
    emulator = await startEmulator({ port: 0, stepMs: 0 });
    workflows = await loadWorkflows(SHIPPED_DIR, silentLogger());
    imageName = await uploadImage(emulator);
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('loads every shipped workflow as ready', () => {
    expect(workflows.list().map((workflow) => workflow.name)).toEqual([...SHIPPED_NAMES]);
    expect(workflows.report.every((entry) => entry.status === 'ready')).toBe(true);
  });

  it('has each shipped workflow, bound with default settings, accepted by POST /prompt with no node errors', async () => {
    for (const workflow of workflows.list()) {
      const bound = bindWorkflow(workflow, {
        prompt: workflow.settings.prompt ? 'a red fox in the snow' : '',
        ...(workflow.settings.image ? { image: { name: imageName } } : {}),
      });
      if (!bound.ok) throw new Error(`${workflow.name}: ${bound.errors.map((error) => error.message).join(' ')}`);
      const { status, body } = await submit(emulator, bound.graph);
      expect({ workflow: workflow.name, status, nodeErrors: body['node_errors'] }).toEqual({
        workflow: workflow.name,
        status: 200,
        nodeErrors: {},
      });
      expect(typeof body['prompt_id']).toBe('string');
    }
  });

  it('has the seed workflow, bound with an aspect and a count, accepted too', async () => {
    const bound = bindWorkflow(buildReady(seedSource()), {
      prompt: 'children playing football',
      aspect: '3:2',
      count: 2,
    });
    if (!bound.ok) throw new Error(bound.errors.map((error) => error.message).join(' '));
    const { status, body } = await submit(emulator, bound.graph);
    expect(status).toBe(200);
    expect(body['node_errors']).toEqual({});
    expect(emulator.received.at(-1)?.prompt['5']).toMatchObject({ inputs: { width: 624, height: 416, batch_size: 2 } });
  });
});
