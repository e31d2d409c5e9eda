/**
 * Conformance of WebSocket details with the recordings: the /api/ws alias, generated sids, reconnecting during a
 * run, and TestSleep's fractional progress.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { queuePrompt } from './http.js';
import { compareEvents, recording, type RecordedEvent } from './shape.js';
import { connectClient, isPromptDone, isText, isTextWhere, textData, type RecordingClient } from './ws-client.js';

interface RecordedAlias {
  readonly api_ws_first_message: RecordedEvent;
  readonly reconnect_first_messages: RecordedEvent[];
  readonly no_clientId_first_message: RecordedEvent;
}

function sleepGraph(seconds: number): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0 } },
    '2': { class_type: 'TestSleep', inputs: { value: ['1', 0], seconds } },
    '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
  };
}

describe('WebSocket behaviour compared with the recordings', () => {
  let emulator: Emulator;
  const clients: RecordingClient[] = [];

  beforeEach(async () => {
    emulator = await startEmulator({ stepMs: 1 });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await emulator.close();
  });

  async function connect(clientId?: string, path?: string): Promise<RecordingClient> {
    const client = await connectClient(emulator.url, clientId, path);
    clients.push(client);
    await client.waitFor(isText('status'));
    return client;
  }

  it('serves /api/ws and makes up a hex sid when no clientId is given', async () => {
    const recorded = recording<RecordedAlias>('ws_alias_and_reconnect');
    const alias = await connect('alias-test', '/api/ws');
    const anonymous = await connect();
    const compared = compareEvents(
      [alias.events[0]!, anonymous.events[0]!],
      [recorded.api_ws_first_message, recorded.no_clientId_first_message],
    );
    expect(compared.live).toEqual(compared.recorded);
    expect(textData(alias.events[0])['sid']).toBe('alias-test');
    expect(String(textData(anonymous.events[0])['sid'])).toMatch(/^[0-9a-f]{32}$/);
  });

  it('tells a client that reconnects during its run which node is executing', async () => {
    const recorded = recording<RecordedAlias>('ws_alias_and_reconnect');
    const first = await connect('probe-x-ac1e2a');
    const answer = await queuePrompt(emulator.url, { prompt: sleepGraph(1.5), client_id: 'probe-x-ac1e2a' });
    await first.waitFor(isText('progress', answer.prompt_id));
    await first.close();
    const again = await connect('probe-x-ac1e2a');
    await again.waitFor(isText('progress', answer.prompt_id));
    const compared = compareEvents(again.events.slice(0, 4), recorded.reconnect_first_messages);
    expect(compared.live).toEqual(compared.recorded);
    expect(again.events[1]).toEqual({ kind: 'text', type: 'executing', data: { node: '2' } });
    await again.waitFor(isPromptDone(answer.prompt_id));
  });

  it('reports TestSleep progress as elapsed seconds of the requested duration', async () => {
    const recorded = recording<{ events_head: RecordedEvent[]; events_tail: RecordedEvent[] }>('testsleep_progress');
    const client = await connect('probe-s-3788df');
    const warm = await queuePrompt(emulator.url, {
      client_id: 'probe-s-3788df',
      prompt: { '1': sleepGraph(0)['1'], '9': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } },
    });
    await client.waitFor(isPromptDone(warm.prompt_id));
    const from = client.events.length;
    const answer = await queuePrompt(emulator.url, { prompt: sleepGraph(0.3), client_id: 'probe-s-3788df' });
    await client.waitFor(isPromptDone(answer.prompt_id), from);
    const events = client.events.slice(from);
    const head = compareEvents(events.slice(0, recorded.events_head.length), recorded.events_head);
    expect(head.live).toEqual(head.recorded);
    const tail = compareEvents(events.slice(-recorded.events_tail.length), recorded.events_tail);
    expect(tail.live).toEqual(tail.recorded);
    const progress = events.filter(isTextWhere('progress', (data) => data['node'] === '2')).map(textData);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.every((data) => data['max'] === 0.3)).toBe(true);
  });
});
