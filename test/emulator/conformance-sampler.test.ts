/**
 * Conformance of sampler runs with the recordings: progress and preview frames for legacy and feature-flag clients,
 * cached and partly cached re-runs, global and targeted interrupts, queue delete and clear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { RECORDED_CHECKPOINT, textToImageGraph } from './graphs.js';
import { getJson, historyEntry, postJson, queuePrompt } from './http.js';
import { compareEvents, recording, shapeOf, type RecordedEvent } from './shape.js';
import {
  connectClient,
  isPromptDone,
  isText,
  isTextWhere,
  textData,
  type RecordingClient,
  type WsEvent,
} from './ws-client.js';

const CLIENT = 'probe-s-3788df';

interface RecordedInterrupt {
  readonly queue_while_running: { queue_running_item_layout: string[] };
  readonly prompt_while_running: unknown;
  readonly n_events: number;
  readonly events_tail: RecordedEvent[];
  readonly history: Record<string, unknown>;
}

interface RecordedTargeted {
  readonly interrupt_pending_prompt_status: number;
  readonly delete_status: number;
  readonly delete_body: string;
  readonly targeted_interrupt_status: number;
  readonly events_non_progress: RecordedEvent[];
  readonly history_b: unknown;
}

interface RecordedClear {
  readonly status: number;
  readonly queue_after_clear: { pending: unknown[] };
  readonly b_history: unknown;
  readonly status_events: Array<RecordedEvent & { data: { status: { exec_info: unknown } } }>;
}

interface RecordedRun {
  readonly events: RecordedEvent[];
  readonly history?: Record<string, unknown>;
  readonly on_connect?: RecordedEvent[];
}

describe('sampler runs compared with the recordings', () => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 2, previews: true, checkpoints: [RECORDED_CHECKPOINT] });
    client = await connectClient(emulator.url, CLIENT);
    await client.waitFor(isText('status'));
  });

  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  async function runRecorded(name: string, graph: object, on = client, clientId = CLIENT): Promise<string> {
    const recorded = recording<RecordedRun>(name);
    const from = on.events.length;
    const answer = await queuePrompt(emulator.url, { prompt: graph, client_id: clientId });
    await on.waitFor(isPromptDone(answer.prompt_id), from);
    const compared = compareEvents(on.events.slice(from), recorded.events);
    expect(compared.live).toEqual(compared.recorded);
    if (recorded.history) {
      const entry = await historyEntry(emulator.url, answer.prompt_id);
      expect(shapeOf(entry)).toEqual(shapeOf(Object.values(recorded.history)[0]));
    }
    return answer.prompt_id;
  }

  it('sends progress with type-1 JPEG previews to a legacy client, step by step', async () => {
    await runRecorded('t2i_legacy_client', textToImageGraph(1, 6));
  });

  it('replays the same sampler prompt from cache', async () => {
    await runRecorded('t2i_cached', textToImageGraph(1, 6));
  });

  it('re-samples only from the KSampler on when the seed changes', async () => {
    await runRecorded('t2i_new_seed', textToImageGraph(2, 6));
  });

  it('negotiates feature flags and sends type-4 previews with metadata before each progress', async () => {
    const recorded = recording<RecordedRun>('t2i_feature_flags_client');
    const flagged = await connectClient(emulator.url, `${CLIENT}-ff`);
    flagged.send({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    await flagged.waitFor(isText('feature_flags'));
    const greeting = compareEvents(flagged.events.slice(0, 2), recorded.on_connect ?? []);
    expect(greeting.live).toEqual(greeting.recorded);
    await runRecorded('t2i_feature_flags_client', textToImageGraph(2, 3), flagged, `${CLIENT}-ff`);
    await flagged.close();
  });

  it('stops at the next step on a global interrupt and records it in history', async () => {
    const recorded = recording<RecordedInterrupt>('interrupt_global');
    emulator.faults.stepMs = 150;
    const from = client.events.length;
    const answer = await queuePrompt(emulator.url, { prompt: textToImageGraph(3, 400, 128), client_id: CLIENT });
    await client.waitFor(
      isTextWhere('progress', (data) => data['value'] === 2),
      from,
    );
    const queue = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[] }>(emulator.url, '/queue');
    expect(queue.body.queue_running.map((item) => item.map(kind))).toEqual([
      recorded.queue_while_running.queue_running_item_layout,
    ]);
    expect((await getJson(emulator.url, '/prompt')).body).toEqual(recorded.prompt_while_running);
    const interrupt = await postJson(emulator.url, '/interrupt', '');
    expect({ status: interrupt.status, body: interrupt.body }).toEqual({ status: 200, body: '' });
    await client.waitFor(isPromptDone(answer.prompt_id), from);
    emulator.faults.stepMs = 2;
    const events = client.events.slice(from);
    expect(events).toHaveLength(recorded.n_events);
    const tail = compareEvents(events.slice(-recorded.events_tail.length), recorded.events_tail);
    expect(tail.live).toEqual(tail.recorded);
    const entry = await historyEntry<Record<string, unknown>>(emulator.url, answer.prompt_id);
    const expected = Object.values(recorded.history)[0] as Record<string, unknown>;
    expect(shapeOf({ ...entry, prompt: null })).toEqual(shapeOf({ ...expected, prompt: null }));
  });

  it('ignores a targeted interrupt for a pending prompt, deletes it from the queue, then interrupts the running one', async () => {
    const recorded = recording<RecordedTargeted>('interrupt_targeted_and_queue_delete');
    emulator.faults.stepMs = 100;
    const from = client.events.length;
    const running = await queuePrompt(emulator.url, { prompt: textToImageGraph(4, 400, 128), client_id: CLIENT });
    await client.waitFor(
      isTextWhere('executing', (data) => data['node'] === '3' && data['prompt_id'] === running.prompt_id),
      from,
    );
    const deleted = await queuePrompt(emulator.url, { prompt: textToImageGraph(5, 2, 128), client_id: CLIENT });
    const next = await queuePrompt(emulator.url, { prompt: textToImageGraph(6, 2, 64), client_id: CLIENT });
    const pendingInterrupt = await postJson(emulator.url, '/interrupt', { prompt_id: deleted.prompt_id });
    expect(pendingInterrupt.status).toBe(recorded.interrupt_pending_prompt_status);
    const before = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(emulator.url, '/queue');
    expect(before.body.queue_running.map((item) => item[1])).toEqual([running.prompt_id]);
    const removal = await postJson(emulator.url, '/queue', { delete: [deleted.prompt_id] });
    expect({ status: removal.status, body: removal.body }).toEqual({
      status: recorded.delete_status,
      body: recorded.delete_body,
    });
    const after = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(emulator.url, '/queue');
    expect(after.body.queue_pending.map((item) => item[1])).toEqual([next.prompt_id]);
    emulator.faults.stepMs = 2;
    const targeted = await postJson(emulator.url, '/interrupt', { prompt_id: running.prompt_id });
    expect(targeted.status).toBe(recorded.targeted_interrupt_status);
    await client.waitFor(isPromptDone(next.prompt_id), from);
    const nonProgress = client.events.slice(from).filter(isNotProgress);
    const compared = compareEvents(nonProgress, recorded.events_non_progress);
    expect(compared.live).toEqual(compared.recorded);
    expect((await getJson(emulator.url, `/history/${deleted.prompt_id}`)).body).toEqual(recorded.history_b);
  });

  it('clears pending prompts while the running one finishes', async () => {
    const recorded = recording<RecordedClear>('queue_clear');
    const observer = await connectClient(emulator.url, 'queue-clear-observer');
    await observer.waitFor(isText('status'));
    const from = observer.events.length;
    emulator.faults.stepMs = 50;
    const running = await queuePrompt(emulator.url, { prompt: textToImageGraph(7, 40, 64), client_id: CLIENT });
    await client.waitFor(
      isTextWhere('executing', (data) => data['node'] === '3' && data['prompt_id'] === running.prompt_id),
    );
    const cleared = await queuePrompt(emulator.url, { prompt: textToImageGraph(8, 2, 64), client_id: CLIENT });
    const clear = await postJson(emulator.url, '/queue', { clear: true });
    expect(clear.status).toBe(recorded.status);
    const queue = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(emulator.url, '/queue');
    expect({ running: queue.body.queue_running.map((item) => item[1]), pending: queue.body.queue_pending }).toEqual({
      running: [running.prompt_id],
      pending: recorded.queue_after_clear.pending,
    });
    emulator.faults.stepMs = 2;
    await client.waitFor(isPromptDone(running.prompt_id));
    await observer.waitFor(
      (event) => isText('status')(event) && JSON.stringify(event).includes('"queue_remaining":0'),
      from,
    );
    const statuses = compareEvents(observer.events.slice(from), recorded.status_events);
    expect(statuses.live).toEqual(statuses.recorded);
    expect(
      observer.events.slice(from).map((event) => (textData(event)['status'] as { exec_info: unknown }).exec_info),
    ).toEqual(recorded.status_events.map((event) => event.data.status.exec_info));
    expect((await getJson(emulator.url, `/history/${cleared.prompt_id}`)).body).toEqual(recorded.b_history);
    await observer.close();
  });
});

function kind(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object' && value !== null) return 'dict';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value === 'string' ? 'str' : typeof value;
}

function isNotProgress(event: WsEvent): boolean {
  return event.kind === 'text' && event.type !== 'progress' && event.type !== 'progress_state';
}
