import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { basicGraph, RECORDED_CHECKPOINT, textToImageGraph } from './graphs.js';
import { postJson } from './http.js';

interface Refusal {
  error: { type: string; message: string; details: string };
  node_errors: Record<
    string,
    { errors: Array<{ type: string; message: string; details: string; extra_info: Record<string, unknown> }> }
  >;
}

describe('prompt validation details', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 0, checkpoints: [RECORDED_CHECKPOINT] });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('reports a link to a missing node as an exception during validation, like ComfyUI', async () => {
    const graph = {
      ...basicGraph(),
      '3': { class_type: 'SaveImage', inputs: { images: ['99', 0], filename_prefix: 'x' } },
    };
    delete (graph as Record<string, unknown>)['4'];
    const answer = await postJson<Refusal>(emulator.url, '/prompt', { prompt: graph });
    expect(answer.status).toBe(400);
    expect(answer.body.node_errors['3']?.errors[0]).toMatchObject({
      type: 'exception_during_validation',
      message: 'Exception when validating node',
      details: "'99'",
      extra_info: { exception_type: 'KeyError' },
    });
  });

  it('refuses a cycle instead of looping forever', async () => {
    const graph = {
      '1': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'x' } },
    };
    const answer = await postJson<Refusal>(emulator.url, '/prompt', { prompt: graph });
    expect(answer.status).toBe(400);
    expect(answer.body.error.type).toBe('prompt_outputs_failed_validation');
  });

  it('formats FLOAT limits the way Python prints floats', async () => {
    const graph = textToImageGraph();
    graph['3']!.inputs['cfg'] = 200;
    const answer = await postJson<Refusal>(emulator.url, '/prompt', { prompt: graph });
    expect(answer.body.node_errors['3']?.errors[0]).toMatchObject({
      type: 'value_bigger_than_max',
      message: 'Value 200.0 bigger than max of 100.0',
      details: 'cfg',
    });
  });

  it('does not echo long combo lists back', async () => {
    const graph = textToImageGraph();
    graph['3']!.inputs['sampler_name'] = 'nope';
    const answer = await postJson<Refusal>(emulator.url, '/prompt', { prompt: graph });
    expect(answer.body.node_errors['3']?.errors[0]).toMatchObject({
      type: 'value_not_in_list',
      details: "sampler_name: 'nope' not in (list of length 42)",
      extra_info: { input_config: null },
    });
  });

  it('coerces numeric strings and keeps the coerced value in the queued graph', async () => {
    const graph = basicGraph();
    graph['1']!.inputs['width'] = ' 32 ';
    const answer = await postJson<{ prompt_id: string }>(emulator.url, '/prompt', { prompt: graph });
    expect(answer.status).toBe(200);
    const received = emulator.received.find((entry) => entry.promptId === answer.body.prompt_id);
    expect(received?.prompt).toMatchObject({ '1': { inputs: { width: 32 } } });
  });

  it('answers malformed JSON with the aiohttp 500 text, and still counts', async () => {
    const before = await postJson<{ number: number }>(emulator.url, '/prompt', { prompt: basicGraph(9) });
    const broken = await postJson(emulator.url, '/prompt', '{');
    expect(broken).toMatchObject({ status: 500, body: '500 Internal Server Error\n\nServer got itself in trouble' });
    const invalid = await postJson(emulator.url, '/prompt', { prompt: {} });
    expect(invalid.status).toBe(400);
    const after = await postJson<{ number: number }>(emulator.url, '/prompt', { prompt: basicGraph(10) });
    // The malformed body never reaches the counter; the invalid prompt does.
    expect(after.body.number).toBe(before.body.number + 2);
  });
});
