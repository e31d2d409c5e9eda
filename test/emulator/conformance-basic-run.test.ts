/**
 * Conformance with the recordings of a plain run: connect, run, cached re-run, partly cached run, history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { basicGraph } from './graphs.js';
import { historyEntry, postJson, queuePrompt, type PromptAnswer } from './http.js';
import { compareEvents, recording, shapeOf, type RecordedEvent } from './shape.js';
import { connectClient, isIdleStatus, isPromptDone, isText, type RecordingClient } from './ws-client.js';

type Recorded = { submitter: RecordedEvent[]; observer?: RecordedEvent[]; post?: unknown };

describe('the emulator compared with the recorded basic runs', () => {
  let emulator: Emulator;
  let submitter: RecordingClient;
  let observer: RecordingClient;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 1 });
    submitter = await connectClient(emulator.url, 'probe-0c3af2a2');
    observer = await connectClient(emulator.url, 'observer-fcd6cf');
    await submitter.waitFor(isText('status'));
    await observer.waitFor(isText('status'));
  });

  afterAll(async () => {
    await submitter.close();
    await observer.close();
    await emulator.close();
  });

  /** Runs a prompt for the submitter and returns the events both sockets saw meanwhile. */
  async function run(
    body: Record<string, unknown>,
  ): Promise<{ answer: PromptAnswer; mine: unknown[]; theirs: unknown[] }> {
    const [fromMine, fromTheirs] = [submitter.events.length, observer.events.length];
    const answer = await queuePrompt(emulator.url, { client_id: 'probe-0c3af2a2', ...body });
    await submitter.waitFor(isPromptDone(answer.prompt_id), fromMine);
    await observer.waitFor(isIdleStatus, fromTheirs);
    return { answer, mine: submitter.events.slice(fromMine), theirs: observer.events.slice(fromTheirs) };
  }

  it('greets each client with a status carrying its sid', () => {
    const recorded = recording<{ submitter: RecordedEvent[]; observer: RecordedEvent[] }>('ws_connect_initial');
    const compared = compareEvents(submitter.events.slice(0, 1), recorded.submitter);
    expect(compared.live).toEqual(compared.recorded);
    expect(submitter.events[0]).toMatchObject({ type: 'status', data: { sid: 'probe-0c3af2a2' } });
    expect(observer.events[0]).toMatchObject({ type: 'status', data: { sid: 'observer-fcd6cf' } });
  });

  it('answers POST /prompt like the recording and sends the recorded event sequence', async () => {
    const recordedOk = recording<{ status: number; content_type: string; body: unknown }>('post_prompt_ok');
    const response = await postJson<PromptAnswer>(emulator.url, '/prompt', {
      prompt: basicGraph(),
      client_id: 'probe-0c3af2a2',
    });
    expect(response.status).toBe(recordedOk.status);
    expect(response.contentType).toBe(recordedOk.content_type);
    expect(shapeOf(response.body)).toEqual(shapeOf(recordedOk.body));
    await submitter.waitFor(isPromptDone(response.body.prompt_id), 1);
    await observer.waitFor(isIdleStatus, 1);

    const recorded = recording<Recorded>('ws_events_basic');
    const mine = compareEvents(submitter.events.slice(1), recorded.submitter);
    expect(mine.live).toEqual(mine.recorded);
    const theirs = compareEvents(observer.events.slice(1), recorded.observer ?? []);
    expect(theirs.live).toEqual(theirs.recorded);

    const history = await historyEntry(emulator.url, response.body.prompt_id);
    const recordedHistory = recording<{ body: Record<string, unknown> }>('history_basic');
    expect(shapeOf(history)).toEqual(shapeOf(Object.values(recordedHistory.body)[0]));
    expect(history['outputs']).toMatchObject({ '3': { images: [{ filename: 'probe_00001_.png', type: 'output' }] } });
  });

  it('replays an identical prompt from cache with the same files', async () => {
    const { answer, mine, theirs } = await run({ prompt: basicGraph() });
    const recorded = recording<Recorded>('ws_events_cached');
    expect(answer.number).toBe(1);
    const compared = compareEvents(mine as never, recorded.submitter);
    expect(compared.live).toEqual(compared.recorded);
    const observed = compareEvents(theirs as never, recorded.observer ?? []);
    expect(observed.live).toEqual(observed.recorded);
    const history = await historyEntry<Record<string, unknown>>(emulator.url, answer.prompt_id);
    const recordedHistory = recording<{ body: Record<string, unknown> }>('history_cached');
    expect(shapeOf(history)).toEqual(shapeOf(Object.values(recordedHistory.body)[0]));
    expect(JSON.stringify(history['outputs'])).toContain('probe_00001_.png');
  });

  it('re-executes only the changed node in a partly cached prompt', async () => {
    const { mine } = await run({ prompt: basicGraph(16711680, 'probe_b') });
    const recorded = recording<Recorded>('ws_events_partly_cached');
    const compared = compareEvents(mine as never, recorded.submitter);
    expect(compared.live).toEqual(compared.recorded);
    expect(JSON.stringify(mine)).toContain('probe_b_00001_.png');
  });
});
