import { describe, expect, it } from 'vitest';
import { parseComfyMessage } from '../../src/comfy/ws-messages.js';
import { recording, textFrame, type RecordedEvent } from './fixtures/recordings.js';

const textEvents = (events: readonly RecordedEvent[]) => events.filter((event) => !event.binary && 'data' in event);

describe('parseComfyMessage', () => {
  it('reads every text frame of the recorded runs', () => {
    const runs = [
      recording<{ submitter: RecordedEvent[] }>('ws_events_basic').submitter,
      recording<{ submitter: RecordedEvent[] }>('ws_events_cached').submitter,
      recording<{ events: RecordedEvent[] }>('execution_error').events,
      recording<{ events_tail: RecordedEvent[] }>('interrupt_global').events_tail,
      recording<{ events: RecordedEvent[] }>('t2i_legacy_client').events,
      recording<{ on_connect: RecordedEvent[] }>('t2i_feature_flags_client').on_connect,
    ];
    for (const event of runs.flatMap(textEvents)) {
      const parsed = parseComfyMessage(textFrame(event));
      expect(parsed, JSON.stringify(event).slice(0, 200)).toMatchObject({ ok: true, message: { type: event.type } });
    }
  });

  it('reads the on-connect status with its sid, and the executing without prompt id sent after a reconnect', () => {
    const rec = recording<{ reconnect_first_messages: RecordedEvent[] }>('ws_alias_and_reconnect');
    const [status, executing] = rec.reconnect_first_messages.map((event) => parseComfyMessage(textFrame(event)));
    expect(status).toMatchObject({ ok: true, message: { type: 'status', data: { sid: 'probe-x-ac1e2a' } } });
    expect(executing).toEqual({ ok: true, message: { type: 'executing', data: { node: '2' } } });
  });

  it('reads the final executing with a null node', () => {
    const parsed = parseComfyMessage('{"type":"executing","data":{"node":null,"prompt_id":"p"}}');
    expect(parsed).toEqual({ ok: true, message: { type: 'executing', data: { node: null, prompt_id: 'p' } } });
  });

  it('ignores unknown types, non-JSON and malformed known types without throwing', () => {
    expect(parseComfyMessage('{"type":"crystools.monitor","data":{}}')).toEqual({
      ok: false,
      reason: 'unknown-type',
      type: 'crystools.monitor',
    });
    expect(parseComfyMessage('not json')).toEqual({ ok: false, reason: 'not-json' });
    expect(parseComfyMessage('[1,2]')).toMatchObject({ ok: false, reason: 'unknown-type' });
    expect(parseComfyMessage('{"type":"progress","data":{"value":"x"}}')).toEqual({
      ok: false,
      reason: 'invalid',
      type: 'progress',
    });
  });

  it('fills what older servers leave out of an execution error', () => {
    const parsed = parseComfyMessage('{"type":"execution_error","data":{"prompt_id":"p","node_id":7}}');
    expect(parsed).toMatchObject({
      ok: true,
      message: { data: { node_id: '7', node_type: 'unknown', exception_message: '', traceback: [] } },
    });
  });
});
