/**
 * Conformance of validation errors (invalid_prompts.json) and of a failing node (execution_error.json).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { basicGraph } from './graphs.js';
import { historyEntry, postJson, queuePrompt } from './http.js';
import { compareEvents, recording, shapeOf, type RecordedEvent } from './shape.js';
import { connectClient, isPromptDone, isText, textData, type RecordingClient } from './ws-client.js';

type Graph = Record<string, { class_type?: string; inputs: Record<string, unknown> }>;

interface RecordedAnswer {
  readonly status: number;
  readonly content_type: string;
  readonly body: unknown;
}

const CLIENT = 'probe-0c3af2a2';

/** basicGraph with node 1's inputs changed. */
function withImageInputs(inputs: Record<string, unknown>): Graph {
  const graph: Graph = basicGraph();
  graph['1'] = {
    class_type: 'EmptyImage',
    inputs: { width: 64, height: 48, batch_size: 1, color: 16711680, ...inputs },
  };
  return graph;
}

/** The bodies sent for each recorded case, rebuilt from the recorded answers and history. */
const CASES: Record<string, Record<string, unknown> | string> = {
  unknown_class_type: { prompt: { ...basicGraph(), '2': { class_type: 'NoSuchNode', inputs: {} } } },
  missing_class_type: { prompt: { ...basicGraph(), '2': { inputs: { image: ['1', 0] } } } },
  missing_required_input: {
    prompt: { ...basicGraph(), '1': { class_type: 'EmptyImage', inputs: { height: 48, batch_size: 1, color: 0 } } },
  },
  bad_input_type_int: { prompt: withImageInputs({ width: 'abc' }) },
  value_bigger_than_max: { prompt: withImageInputs({ width: 999999 }) },
  value_smaller_than_min: { prompt: withImageInputs({ width: 0 }) },
  loadimage_missing_file: {
    prompt: {
      '1': { class_type: 'LoadImage', inputs: { image: 'nope.png' } },
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'probe' } },
    },
  },
  value_not_in_list: {
    prompt: {
      '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 48, batch_size: 1, color: 0 } },
      '2': {
        class_type: 'ImageScale',
        inputs: { image: ['1', 0], upscale_method: 'nope', width: 32, height: 24, crop: 'disabled' },
      },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'probe' } },
    },
  },
  bad_linked_input: {
    prompt: {
      ...basicGraph(),
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0, 0], filename_prefix: 'probe' } },
    },
  },
  return_type_mismatch: {
    prompt: {
      '1': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'probe' } },
    },
  },
  no_outputs: {
    prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } } },
  },
  no_prompt_key: {},
  partially_valid_prompt: {
    prompt: {
      ...withImageInputs({ width: 'abc' }),
      '5': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      '6': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      '7': { class_type: 'PreviewImage', inputs: { images: ['6', 0] } },
    },
  },
  malformed_json_body: '{"prompt": {"1": ',
};

function caseBody(name: string): Record<string, unknown> {
  const body = CASES[name];
  if (typeof body !== 'object') throw new Error(`case ${name} has no JSON body`);
  return body;
}

/** Makes two answers comparable: ids and counters removed, dependent_outputs sorted (ComfyUI's order is a set's). */
function normalise(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  delete copy['prompt_id'];
  delete copy['number'];
  for (const entry of Object.values((copy['node_errors'] ?? {}) as Record<string, { dependent_outputs: string[] }>)) {
    entry.dependent_outputs.sort();
  }
  return copy;
}

describe('validation and execution errors compared with the recordings', () => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeEach(async () => {
    emulator = await startEmulator({ stepMs: 1 });
    client = await connectClient(emulator.url, CLIENT);
    await client.waitFor(isText('status'));
  });

  afterEach(async () => {
    await client.close();
    await emulator.close();
  });

  it('answers every recorded invalid prompt with the same status, content type and body', async () => {
    const recorded = recording<Record<string, RecordedAnswer>>('invalid_prompts');
    for (const [name, body] of Object.entries(CASES)) {
      const answer = await postJson(
        emulator.url,
        '/prompt',
        typeof body === 'string' ? body : { ...body, client_id: CLIENT },
      );
      const expected = recorded[name] as RecordedAnswer;
      expect({ name, status: answer.status, type: answer.contentType, body: normalise(answer.body) }).toEqual({
        name,
        status: expected.status,
        type: expected.content_type,
        body: normalise(expected.body),
      });
    }
  });

  it('runs the valid outputs of partly invalid prompts with the recorded events', async () => {
    const recorded = recording<{ _ws_events_after_invalid: RecordedEvent[] }>('invalid_prompts');
    const from = client.events.length;
    const first = await queuePrompt(emulator.url, { ...caseBody('bad_linked_input'), client_id: CLIENT });
    await client.waitFor(isPromptDone(first.prompt_id), from);
    const second = await queuePrompt(emulator.url, {
      ...(CASES['partially_valid_prompt'] as object),
      client_id: CLIENT,
    });
    await client.waitFor(isPromptDone(second.prompt_id), from);
    const compared = compareEvents(client.events.slice(from), recorded._ws_events_after_invalid);
    expect(compared.live).toEqual(compared.recorded);
    const entry = await historyEntry<{ prompt: unknown[] }>(emulator.url, second.prompt_id);
    // Like ComfyUI, the stored graph keeps the value that failed conversion.
    expect(entry.prompt[2]).toMatchObject({ '1': { inputs: { width: 'abc' } } });
    expect(entry.prompt[4]).toEqual(['7']);
  });

  it('reports a failing node with execution_error and an error history entry', async () => {
    const recorded = recording<{ events: RecordedEvent[]; history: Record<string, unknown> }>('execution_error');
    const from = client.events.length;
    const answer = await queuePrompt(emulator.url, {
      client_id: CLIENT,
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: '../escape' } },
      },
    });
    await client.waitFor(isPromptDone(answer.prompt_id), from);
    const compared = compareEvents(client.events.slice(from), recorded.events);
    expect(compared.live).toEqual(compared.recorded);
    const error = client.events.slice(from).find(isText('execution_error'));
    expect(error).toMatchObject({
      data: {
        node_id: '2',
        node_type: 'SaveImage',
        executed: ['1'],
        exception_type: 'Exception',
        current_outputs: ['1', '2'],
      },
    });
    const message = String(textData(error)['exception_message']);
    expect(message.startsWith('**** ERROR: Saving image outside the output folder is not allowed.')).toBe(true);
    const entry = await historyEntry(emulator.url, answer.prompt_id);
    expect(shapeOf(entry)).toEqual(shapeOf(Object.values(recorded.history)[0]));
  });
});
