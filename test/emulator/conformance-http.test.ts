/**
 * Conformance of the informational routes, the origin guard and the history operations with the recordings.
 */
import { request as httpRequest } from 'node:http';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { basicGraph } from './graphs.js';
import { getJson, postJson, queuePrompt } from './http.js';
import { recording, shapeOf } from './shape.js';
import { connectClient, isPromptDone, isText } from './ws-client.js';

/** Status of a raw WebSocket upgrade request carrying an Origin header. */
function upgradeStatus(baseUrl: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}/ws?clientId=origin-probe`, {
      headers: {
        Origin: origin,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

interface RecordedGet {
  readonly status: number;
  readonly content_type?: string;
  readonly body?: unknown;
  readonly has?: Record<string, boolean>;
}

describe('the informational routes compared with the recordings', () => {
  let emulator: Emulator;

  beforeEach(async () => {
    emulator = await startEmulator({ stepMs: 1 });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('answers every recorded GET with the same status, content type and body shape', async () => {
    const recorded = recording<Record<string, RecordedGet>>('misc_gets');
    // /history?max_items=2 is compared in the history test; /models/checkpoints lists our own checkpoints.
    const exact = [
      '/prompt',
      '/queue',
      '/features',
      '/api/prompt',
      '/api/queue',
      '/embeddings',
      '/models',
      '/extensions',
    ];
    for (const path of exact) {
      const expected = recorded[path] as RecordedGet;
      const answer = await getJson(emulator.url, path);
      expect({ path, status: answer.status, type: answer.contentType, body: answer.body }).toEqual({
        path,
        status: expected.status,
        type: expected.content_type,
        body: expected.body,
      });
    }
    const stats = await getJson<{ system: Record<string, unknown> }>(emulator.url, '/system_stats');
    expect(shapeOf(stats.body)).toEqual(shapeOf(recorded['/system_stats']?.body));
    expect(stats.body.system['comfyui_version']).toBe('0.3.64');
    const checkpoints = await getJson<string[]>(emulator.url, '/models/checkpoints');
    expect(checkpoints.body).toContain('v1-5-pruned-emaonly.safetensors');
    expect((await fetch(`${emulator.url}/models/nope`)).status).toBe(404);
  });

  it('serves the exact recorded /object_info entry for SaveImage and {} for unknown classes', async () => {
    const recorded = recording<Record<string, RecordedGet>>('misc_gets');
    expect((await getJson(emulator.url, '/object_info/SaveImage')).body).toEqual(
      recorded['/object_info/SaveImage']?.body,
    );
    expect((await getJson(emulator.url, '/object_info/NoSuchNode')).body).toEqual({});
    const all = await getJson<Record<string, { output_node: boolean; input: unknown }>>(emulator.url, '/object_info');
    const expectedClasses = Object.entries(recorded['/object_info']?.has ?? {})
      .filter(([name]) => name !== 'SaveVideo')
      .map(([name]) => name);
    // SaveVideo needs a video encoder the emulator does not have, so it is not in the catalogue.
    for (const name of expectedClasses) expect(all.body[name], name).toBeDefined();
    const keys = Object.keys((recorded['/object_info/SaveImage']?.body as Record<string, object>)['SaveImage'] ?? {});
    for (const [name, entry] of Object.entries(all.body))
      expect(Object.keys(entry), name).toEqual(expect.arrayContaining(keys));
  });

  it('refuses foreign origins with an empty 403 on HTTP and WebSocket, and accepts its own', async () => {
    const recorded = recording<Record<string, { status: number; body: string }>>('origin_check');
    const foreign = { Origin: 'http://evil.example' };
    const post = await postJson(emulator.url, '/prompt', { prompt: {} }, foreign);
    expect({ status: post.status, body: post.body }).toEqual(recorded['post_prompt_foreign_origin']);
    const same = await postJson(emulator.url, '/prompt', { prompt: {} }, { Origin: emulator.url });
    expect(same.status).toBe(recorded['post_prompt_same_origin']?.status);
    expect(JSON.stringify(same.body)).toBe(JSON.stringify(JSON.parse(recorded['post_prompt_same_origin']?.body ?? '')));
    const queue = await fetch(`${emulator.url}/queue`, { headers: foreign });
    expect({ status: queue.status, body: await queue.text() }).toEqual(recorded['get_queue_foreign_origin']);
    expect(await upgradeStatus(emulator.url, foreign.Origin)).toBe(403);
    expect(await upgradeStatus(emulator.url, emulator.url)).toBe(101);
  });

  it('pages, deletes and clears history like the recording', async () => {
    const recorded = recording<Record<string, unknown>>('history_ops');
    const client = await connectClient(emulator.url, 'history-client');
    await client.waitFor(isText('status'));
    const ids: string[] = [];
    for (let index = 0; index < (recorded['n'] as number); index += 1) {
      const answer = await queuePrompt(emulator.url, { prompt: basicGraph(index), client_id: 'history-client' });
      ids.push(answer.prompt_id);
      await client.waitFor(isPromptDone(answer.prompt_id));
    }
    const lastTwo = await getJson<Record<string, unknown>>(emulator.url, '/history?max_items=2');
    expect(Object.keys(lastTwo.body)).toEqual((recorded['max_items_2'] as number[]).map((index) => ids[index]));
    const paged = await getJson<Record<string, unknown>>(emulator.url, '/history?max_items=2&offset=1');
    expect(Object.keys(paged.body)).toEqual((recorded['max_items_2_offset_1'] as number[]).map((index) => ids[index]));
    const deleted = await postJson(emulator.url, '/history', { delete: [ids[0]] });
    expect({ status: deleted.status, body: deleted.body }).toEqual({
      status: recorded['delete_status'],
      body: recorded['delete_body'],
    });
    expect((await getJson(emulator.url, `/history/${ids[0]}`)).body).toEqual(recorded['after_delete_get']);
    expect(Object.keys((await getJson<object>(emulator.url, '/history')).body)).toHaveLength(
      recorded['n_before_clear'] as number,
    );
    const cleared = await postJson(emulator.url, '/history', { clear: true });
    expect(cleared.status).toBe(recorded['clear_status']);
    expect(Object.keys((await getJson<object>(emulator.url, '/history')).body)).toHaveLength(
      recorded['n_after_clear'] as number,
    );
    await client.close();
  });
});
