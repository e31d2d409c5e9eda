/**
 * Conformance with the recordings of POST /prompt options (client prompt_id, extra_data, front, number,
 * partial_execution_targets), prompts without a client id, and the classic cache's X, Y, X behaviour.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { basicGraph } from './graphs.js';
import { historyEntry, queuePrompt } from './http.js';
import { compareEvents, recording, shapeOf, type RecordedEvent } from './shape.js';
import {
  connectClient,
  isIdleStatus,
  isPromptDone,
  isText,
  type RecordingClient,
  type TextEvent,
} from './ws-client.js';

const CLIENT = 'probe-0c3af2a2';

interface RecordedVariants {
  readonly client_prompt_id: { events: RecordedEvent[]; history_prompt_tuple: unknown[] };
  readonly front: { body: { number: number } };
  readonly partial_execution_targets: { body: { number: number }; history_outputs: Record<string, unknown> };
  readonly events_rest: RecordedEvent[];
}

describe('POST /prompt options compared with the recordings', () => {
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

  async function runAndWait(body: Record<string, unknown>): Promise<string> {
    const answer = await queuePrompt(emulator.url, { client_id: CLIENT, ...body });
    await client.waitFor(isPromptDone(answer.prompt_id));
    return answer.prompt_id;
  }

  it('uses a client prompt_id verbatim, keeps extra_data in history and counts front/number like ComfyUI', async () => {
    const recorded = recording<RecordedVariants>('post_prompt_variants');
    for (let index = 0; index < 3; index += 1) await runAndWait({ prompt: basicGraph(index) });
    const from = client.events.length;
    const promptId = '179ad19e-40de-4b39-bfe1-4a8ce5bccaec';
    const answer = await queuePrompt(emulator.url, {
      prompt: basicGraph(255),
      client_id: CLIENT,
      prompt_id: promptId,
      extra_data: { extra_pnginfo: { workflow: { note: 'x' } }, foo: 'bar' },
    });
    expect(answer).toEqual({ prompt_id: promptId, number: 3, node_errors: {} });
    await client.waitFor(isPromptDone(promptId));
    const compared = compareEvents(client.events.slice(from), recorded.client_prompt_id.events);
    expect(compared.live).toEqual(compared.recorded);
    const entry = await historyEntry<{ prompt: unknown[] }>(emulator.url, promptId);
    expect(shapeOf(entry.prompt)).toEqual(shapeOf(recorded.client_prompt_id.history_prompt_tuple));
    expect(entry.prompt[3]).toEqual(recorded.client_prompt_id.history_prompt_tuple[3]);

    const restFrom = client.events.length;
    const front = await queuePrompt(emulator.url, { prompt: basicGraph(256), client_id: CLIENT, front: true });
    expect(front.number).toBe(recorded.front.body.number);
    await client.waitFor(isPromptDone(front.prompt_id));
    const numbered = await queuePrompt(emulator.url, { prompt: basicGraph(257), client_id: CLIENT, number: 42.5 });
    expect(numbered.number).toBe(42.5);
    await client.waitFor(isPromptDone(numbered.prompt_id));
    const partial = await queuePrompt(emulator.url, {
      prompt: basicGraph(258),
      client_id: CLIENT,
      partial_execution_targets: ['4'],
    });
    expect(partial.number).toBe(recorded.partial_execution_targets.body.number);
    await client.waitFor(isPromptDone(partial.prompt_id));
    const rest = compareEvents(client.events.slice(restFrom), recorded.events_rest);
    expect(rest.live).toEqual(rest.recorded);
    const partialEntry = await historyEntry<{ outputs: Record<string, unknown> }>(emulator.url, partial.prompt_id);
    expect(Object.keys(partialEntry.outputs)).toEqual(Object.keys(recorded.partial_execution_targets.history_outputs));
  });

  it('broadcasts only status and progress for a prompt without client id', async () => {
    const recorded = recording<{
      submitter_socket: RecordedEvent[];
      observer: RecordedEvent[];
      history: Record<string, unknown>;
    }>('no_client_id');
    const observer = await connectClient(emulator.url, 'observer-fcd6cf');
    await observer.waitFor(isText('status'));
    const [mineFrom, theirsFrom] = [client.events.length, observer.events.length];
    const answer = await queuePrompt(emulator.url, { prompt: basicGraph(251) });
    await observer.waitFor(isIdleStatus, theirsFrom);
    await client.waitFor(isIdleStatus, mineFrom);
    const mine = compareEvents(client.events.slice(mineFrom), recorded.submitter_socket);
    expect(mine.live).toEqual(mine.recorded);
    // The recorded observer also saw five earlier prompts' status triples; only the last run is compared.
    const lastRun = recorded.observer.slice(-recorded.submitter_socket.length);
    const theirs = compareEvents(observer.events.slice(theirsFrom), lastRun);
    expect(theirs.live).toEqual(theirs.recorded);
    const entry = await historyEntry(emulator.url, answer.prompt_id);
    expect(shapeOf(entry)).toEqual(shapeOf(Object.values(recorded.history)[0]));
    await observer.close();
  });

  it('caches X, X but re-executes X after Y (classic cache)', async () => {
    const recorded =
      recording<Record<string, { cached: string[]; executing: unknown[]; executed: unknown[] }>>('cache_xyx');
    const graph = (color: number) => ({
      '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'xyx' } },
    });
    const observed: Record<string, unknown> = {};
    for (const [name, color] of [
      ['X1', 1],
      ['Y', 2],
      ['X2', 1],
      ['X3', 1],
    ] as const) {
      const from = client.events.length;
      await runAndWait({ prompt: graph(color) });
      const events = client.events.slice(from).filter((event): event is TextEvent => event.kind === 'text');
      observed[name] = {
        cached: events.find((event) => event.type === 'execution_cached')?.data['nodes'],
        executing: events.filter((event) => event.type === 'executing').map((event) => event.data['node']),
        executed: events
          .filter((event) => event.type === 'executed')
          .map((event) => [event.data['node'], event.data['output']]),
      };
    }
    expect(observed).toEqual(recorded);
  });
});
