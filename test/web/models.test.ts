import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHECKPOINTS } from '../../src/emulator/index.js';
import { startWebRig, waitFor, type WebRig } from './harness.js';

interface SentNode {
  readonly class_type: string;
  readonly inputs: Record<string, unknown>;
}

let rig: WebRig;

beforeAll(async () => {
  rig = await startWebRig({
    emulator: {
      checkpoints: [...DEFAULT_CHECKPOINTS, 'sdxl/juggernautXL_v9.safetensors'],
      loras: ['detail.safetensors', 'sdxl/ink-style.safetensors'],
    },
    env: { MAX_JOBS_PER_MEMBER: '10' },
  });
  // The server's files are known once it has been checked; until then names pass unchecked.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const listed = await rig.api('GET', '/v1/workflows');
    const txt2img = listed.body.data?.find((workflow: { name: string }) => workflow.name === 'txt2img');
    if (txt2img?.models?.includes('sdxl/juggernautXL_v9.safetensors')) break;
    if (Date.now() > deadline) throw new Error('the image server was never checked');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  await rig?.close();
});

const ended = (generation: { status: string }) => ['succeeded', 'failed', 'cancelled'].includes(generation.status);

/** The nodes of the graph the emulator was sent for a prompt. */
function graphSent(prompt: string): SentNode[] {
  const entry = rig.emulator.received.find((received) => JSON.stringify(received.prompt).includes(`"${prompt}"`));
  if (!entry) throw new Error(`no graph was sent for ${prompt}`);
  return Object.values(entry.prompt as Record<string, SentNode>);
}

function filesSent(prompt: string) {
  const nodes = graphSent(prompt);
  return {
    model: nodes.find((node) => node.class_type === 'CheckpointLoaderSimple')?.inputs['ckpt_name'],
    loras: nodes
      .filter((node) => node.class_type === 'LoraLoader')
      .map((node) => [node.inputs['lora_name'], node.inputs['strength_model']]),
  };
}

describe('models and LoRAs through the web API', () => {
  it('runs the model and LoRAs a request names, as the server lists them, and shows them in the settings', async () => {
    const created = await rig.api('POST', '/v1/generations', {
      json: {
        prompt: 'a copper kettle --steps 2',
        model: 'juggernautXL_v9',
        loras: [{ name: 'ink-style', weight: 0.6 }, { name: 'detail' }],
      },
    });
    expect(created.status).toBe(201);
    const done = await waitFor(rig, created.body.id, ended, 'the generation to end');
    expect(done.status).toBe('succeeded');
    expect(filesSent('a copper kettle')).toEqual({
      model: 'sdxl/juggernautXL_v9.safetensors',
      loras: [
        ['sdxl/ink-style.safetensors', 0.6],
        ['detail.safetensors', 1],
      ],
    });
    expect(done.settings).toMatchObject({
      checkpoint: 'sdxl/juggernautXL_v9.safetensors',
      loras: [{ name: 'sdxl/ink-style.safetensors', weight: 0.6 }, { name: 'detail.safetensors' }],
    });
  });

  it('refuses an unknown model or LoRA as problem+json with the closest names, and queues nothing', async () => {
    const before = rig.emulator.received.length;
    const typo = await rig.api('POST', '/v1/generations', { json: { prompt: 'a fox', model: 'jugernaut' } });
    expect(typo.status).toBe(422);
    expect(typo.type).toContain('application/problem+json');
    expect(typo.body).toMatchObject({
      status: 422,
      code: 'unknown-model',
      detail: 'There is no model called “jugernaut” for txt2img; the closest is juggernautXL_v9.safetensors.',
    });
    const lora = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a fox --lora inkstyle:0.5', loras: [{ name: 'detial' }] },
    });
    expect(lora.status).toBe(422);
    expect(lora.body.code).toBe('unknown-model');
    expect(lora.body.detail).toBe('There is no LoRA called “detial” for txt2img; the closest is detail.safetensors.');
    expect(rig.emulator.received.length).toBe(before);
  });

  it('adds the LoRAs of a refine to those of the generation it refines', async () => {
    const created = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a glass bird --steps 2', loras: [{ name: 'detail', weight: 0.4 }] },
    });
    await waitFor(rig, created.body.id, ended, 'the generation to end');
    const refined = await rig.api('POST', `/v1/generations/${created.body.id}/refine`, {
      json: { text: 'a glass fish --lora ink-style:0.7' },
    });
    expect(refined.status).toBe(201);
    expect((await waitFor(rig, refined.body.id, ended, 'the refine to end')).status).toBe('succeeded');
    expect(filesSent('a glass fish').loras).toEqual([
      ['detail.safetensors', 0.4],
      ['sdxl/ink-style.safetensors', 0.7],
    ]);
  });
});
