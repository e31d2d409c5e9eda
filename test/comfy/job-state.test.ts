import { describe, expect, it } from 'vitest';
import { parseBinaryFrame } from '../../src/comfy/binary-frames.js';
import {
  ComfyExecutionError,
  ComfyInterruptedError,
  ComfyLostError,
  ComfyStalledError,
} from '../../src/comfy/errors.js';
import { JobState, type JobEvent } from '../../src/comfy/job-state.js';
import { HistorySchema, type HistoryEntry, type QueueSnapshot } from '../../src/comfy/schemas.js';
import { parseComfyMessage, promptIdOf } from '../../src/comfy/ws-messages.js';
import { binaryFrame, recording, textFrame, type RecordedEvent } from './fixtures/recordings.js';

const EMPTY_QUEUE: QueueSnapshot = { running: [], pending: [] };

/** Feeds recorded events to the state as the monitor would: messages about this prompt, and binary frames. */
function fold(state: JobState, events: readonly RecordedEvent[]): JobEvent[] {
  const out: JobEvent[] = [];
  for (const event of events) {
    if (event.binary) {
      const parsed = parseBinaryFrame(binaryFrame(event));
      if (parsed.ok) out.push(...state.onFrame(parsed.frame));
      continue;
    }
    const parsed = parseComfyMessage(textFrame(event));
    if (parsed.ok && promptIdOf(parsed.message) === state.promptId) out.push(...state.onMessage(parsed.message));
  }
  return out;
}

function historyEntry(body: unknown, promptId: string): HistoryEntry {
  return HistorySchema.parse(body)[promptId]!;
}

/** The prompt left the queue and history has its entry. */
function finishFromHistory(state: JobState, entry: HistoryEntry): JobEvent[] {
  return [...state.onQueue(EMPTY_QUEUE), ...state.onHistory(entry)];
}

const types = (events: readonly JobEvent[]) => events.map((event) => event.type);
const terminalCount = (events: readonly JobEvent[]) =>
  events.filter((event) => ['succeeded', 'failed', 'interrupted'].includes(event.type)).length;

describe('JobState', () => {
  it('follows a normal run to success, each output reported once, confirmed from history', () => {
    const id = '243d6ab9-f81d-4a04-a5f7-0ba1521f0c5b';
    const state = new JobState('local', id, true);
    const live = fold(state, recording<{ submitter: RecordedEvent[] }>('ws_events_basic').submitter);
    expect(types(live)).toEqual(['started', 'output', 'output']);
    expect(state.phase).toBe('finishing');
    const end = finishFromHistory(state, historyEntry(recording<{ body: unknown }>('history_basic').body, id));
    expect(types(end)).toEqual(['succeeded']);
    const succeeded = end[0] as Extract<JobEvent, { type: 'succeeded' }>;
    expect(succeeded.outputs).toEqual([
      {
        node: '4',
        filename: 'ComfyUI_temp_zyqhq_00001_.png',
        subfolder: '',
        type: 'temp',
        kind: 'image',
        mimeType: 'image/png',
      },
      { node: '3', filename: 'probe_00001_.png', subfolder: '', type: 'output', kind: 'image', mimeType: 'image/png' },
    ]);
  });

  it('finishes a fully cached re-run, which has no per-node executing but still sends executed', () => {
    const rec = recording<{ post: { prompt_id: string }; submitter: RecordedEvent[] }>('ws_events_cached');
    const state = new JobState('local', rec.post.prompt_id, true);
    const live = fold(state, rec.submitter);
    expect(types(live)).toEqual(['started', 'output', 'output']);
    const end = finishFromHistory(
      state,
      historyEntry(recording<{ body: unknown }>('history_cached').body, rec.post.prompt_id),
    );
    expect(end).toMatchObject([
      { type: 'succeeded', outputs: [{ filename: 'probe_00001_.png' }, { filename: 'ComfyUI_temp_zyqhq_00001_.png' }] },
    ]);
  });

  it('finishes a partly cached run with the outputs of both executed and cached nodes', () => {
    const rec = recording<{ post: { prompt_id: string }; submitter: RecordedEvent[] }>('ws_events_partly_cached');
    const state = new JobState('local', rec.post.prompt_id, true);
    const live = fold(state, rec.submitter);
    expect(live.filter((event) => event.type === 'output').map((event) => (event as { node: string }).node)).toEqual([
      '3',
      '4',
    ]);
    // History may be unreachable at the end: the server said success, so the outputs come from the events.
    expect(state.onQueue(EMPTY_QUEUE)).toEqual([]);
    expect(state.onHistory(undefined)).toEqual([]);
    const end = state.onHistory(undefined);
    expect(end).toMatchObject([{ type: 'succeeded', outputs: [{ filename: 'probe_b_00001_.png' }, { type: 'temp' }] }]);
  });

  it('fails with the node, its type and the exception when a node raises', () => {
    const rec = recording<{ post: { body: { prompt_id: string } }; events: RecordedEvent[]; history: unknown }>(
      'execution_error',
    );
    const id = rec.post.body.prompt_id;
    const live = fold(new JobState('local', id, true), rec.events);
    expect(types(live)).toEqual(['started', 'failed']);
    const error = (live[1] as Extract<JobEvent, { type: 'failed' }>).error;
    expect(error).toBeInstanceOf(ComfyExecutionError);
    expect(error).toMatchObject({ failure: { nodeId: '2', nodeType: 'SaveImage', exceptionType: 'Exception' } });
    expect(error.userMessage).toBe(
      'Node 2 (SaveImage) failed: **** ERROR: Saving image outside the output folder is not allowed.',
    );
    expect(error.message).toContain('full_output_folder');

    const fromHistory = finishFromHistory(new JobState('local', id, true), historyEntry(rec.history, id));
    expect(fromHistory).toMatchObject([{ type: 'failed', error: { failure: { nodeId: '2' } } }]);
  });

  it('ends as interrupted, from the event or from history', () => {
    const rec = recording<{ events_tail: RecordedEvent[]; history: unknown }>('interrupt_global');
    const id = '425a1d78-f16f-4f5f-a4e1-37d5c11dc9a1';
    const live = fold(new JobState('local', id, true), rec.events_tail);
    expect(types(live)).toEqual(['started', 'progress', 'preview', 'progress', 'preview', 'interrupted']);
    const error = (live.at(-1) as Extract<JobEvent, { type: 'interrupted' }>).error;
    expect(error).toMatchObject({ whileQueued: false, nodeId: '3', identifier: 'comfy-interrupted' });

    const fromHistory = finishFromHistory(new JobState('local', id, true), historyEntry(rec.history, id));
    expect(fromHistory).toMatchObject([{ type: 'interrupted', error: { whileQueued: false } }]);
  });

  it('reports progress and type-4 previews of a text-to-image run', () => {
    const rec = recording<{ events: RecordedEvent[] }>('t2i_feature_flags_client');
    const live = fold(new JobState('local', '13653268-668f-4af4-8c2c-afdf059bf21d', true), rec.events);
    const progress = live.filter((event) => event.type === 'progress');
    expect(progress).toEqual([1, 2, 3].map((value) => ({ type: 'progress', value, max: 3, node: '3' })));
    expect(live.filter((event) => event.type === 'preview')).toHaveLength(3);
    expect(live.find((event) => event.type === 'preview')).toMatchObject({ mimeType: 'image/jpeg', node: '3' });
  });

  it('reports the position while queued, only when it changes, and started once running', () => {
    const state = new JobState('local', 'me', true);
    expect(state.onQueue({ running: ['a'], pending: ['b', 'me'] })).toEqual([{ type: 'queued', position: 2 }]);
    expect(state.onQueue({ running: ['a'], pending: ['b', 'me'] })).toEqual([]);
    expect(state.onQueue({ running: ['b'], pending: ['me'] })).toEqual([{ type: 'queued', position: 1 }]);
    expect(state.onQueue({ running: ['me'], pending: [] })).toEqual([{ type: 'started' }]);
    expect(state.onQueue({ running: ['me'], pending: [] })).toEqual([]);
  });

  it('reads a prompt that vanished from the queue without running as removed, after a second look', () => {
    const state = new JobState('local', 'me', true);
    state.onQueue({ running: ['a'], pending: ['me'] });
    expect(state.absentFrom(EMPTY_QUEUE)).toBe(true);
    expect(state.onHistory(undefined)).toEqual([]);
    expect(state.recheckDue).toBe(true);
    const end = state.onHistory(undefined);
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ type: 'interrupted', error: { whileQueued: true } });
    expect((end[0] as { error: Error }).error).toBeInstanceOf(ComfyInterruptedError);
  });

  it('forgets a single miss when the prompt shows up again', () => {
    const state = new JobState('local', 'me', true);
    state.onHistory(undefined);
    state.onQueue({ running: [], pending: ['me'] });
    expect(state.recheckDue).toBe(false);
    expect(state.onHistory(undefined)).toEqual([]);
  });

  it('reads a running prompt that vanished as lost: the server restarted', () => {
    const state = new JobState('local', 'me', true);
    state.onQueue({ running: ['me'], pending: [] });
    state.onHistory(undefined);
    const [end] = state.onHistory(undefined);
    expect(end).toMatchObject({ type: 'failed', error: { identifier: 'comfy-lost' } });
    expect((end as { error: Error }).error).toBeInstanceOf(ComfyLostError);
  });

  it('reads a queued prompt that vanished across a dropped connection as lost', () => {
    const state = new JobState('local', 'me', true);
    state.onQueue({ running: ['a'], pending: ['me'] });
    state.onConnectionLost();
    state.onHistory(undefined);
    expect(state.onHistory(undefined)).toMatchObject([{ type: 'failed', error: { identifier: 'comfy-lost' } }]);
  });

  it('reads a followed prompt the server never heard of as lost', () => {
    const state = new JobState('local', 'old', false);
    state.onHistory(undefined);
    expect(state.onHistory(undefined)).toMatchObject([{ type: 'failed', error: { identifier: 'comfy-lost' } }]);
  });

  it('reads a prompt we asked to cancel that left the queue as interrupted while queued', () => {
    const state = new JobState('local', 'me', true);
    state.onQueue({ running: ['a'], pending: ['me'] });
    state.onConnectionLost();
    state.cancelRequested = true;
    state.onHistory(undefined);
    expect(state.onHistory(undefined)).toMatchObject([{ type: 'interrupted', error: { whileQueued: true } }]);
  });

  it('reports an output missed by the socket from history, and never one twice', () => {
    const id = '243d6ab9-f81d-4a04-a5f7-0ba1521f0c5b';
    const events = recording<{ submitter: RecordedEvent[] }>('ws_events_basic').submitter;
    // The socket dropped after the first `executed`: the second one and the end were never seen.
    const cut = events.findIndex((event) => event.type === 'executed' && (event.data as { node: string }).node === '3');
    const state = new JobState('local', id, true);
    const live = fold(state, events.slice(0, cut));
    state.onConnectionLost();
    const end = finishFromHistory(state, historyEntry(recording<{ body: unknown }>('history_basic').body, id));
    const all = [...live, ...end];
    expect(all.filter((event) => event.type === 'output').map((event) => (event as { node: string }).node)).toEqual([
      '4',
      '3',
    ]);
    expect(terminalCount(all)).toBe(1);
    expect((end.at(-1) as Extract<JobEvent, { type: 'succeeded' }>).outputs).toHaveLength(2);
  });

  it('produces nothing after a terminal event', () => {
    const state = new JobState('local', 'me', true);
    expect(state.fail(new ComfyStalledError('local', 'me', 10, 'queued'))).toHaveLength(1);
    expect(state.terminal).toBe(true);
    expect(state.fail(new ComfyStalledError('local', 'me', 10, 'queued'))).toEqual([]);
    expect(state.onQueue({ running: ['me'], pending: [] })).toEqual([]);
    expect(state.onHistory(undefined)).toEqual([]);
    expect(state.succeedFromEvents()).toEqual([]);
  });
});
