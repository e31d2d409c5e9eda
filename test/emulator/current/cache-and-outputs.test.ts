/**
 * The emulator's `current` mode runs with current ComfyUI's defaults (PROTOCOL-current.md §3, §7): the RAM-pressure
 * cache (X, Y, X re-uses X) and the asset system (output items carry `id` and `preview_id`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import type { ComfyVersion } from '../../../src/emulator/index.js';
import { basicGraph } from '../graphs.js';
import { historyEntry, queuePrompt } from '../http.js';
import { connectClient, isPromptDone, isText, textData, type RecordingClient, type WsEvent } from '../ws-client.js';

type Outputs = Record<string, { images: Array<Record<string, unknown>> }>;

describe.each<[ComfyVersion, boolean]>([
  ['current', true],
  ['0.3.64', false],
])('the %s emulator running X, Y, X', (version, reusesX) => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 1, version });
    client = await connectClient(emulator.url, 'cache-test');
  });

  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  async function run(graph: Record<string, unknown>): Promise<{ id: string; events: WsEvent[]; outputs: Outputs }> {
    const from = client.events.length;
    const { prompt_id: id } = await queuePrompt(emulator.url, { prompt: graph, client_id: 'cache-test' });
    await client.waitFor(isPromptDone(id), from);
    const entry = await historyEntry<{ outputs: Outputs }>(emulator.url, id);
    return { id, events: client.events.slice(from), outputs: entry.outputs };
  }

  it(
    reusesX ? 're-uses X from the cache: all nodes cached, executed re-sent, no new file' : 'runs X again',
    async () => {
      const first = await run(basicGraph(100, 'xyx'));
      await run(basicGraph(200, 'other'));
      const again = await run(basicGraph(100, 'xyx'));

      const cached = again.events.find(isText('execution_cached', again.id));
      const executing = again.events.filter(
        (event) => isText('executing', again.id)(event) && textData(event)['node'] !== null,
      );
      const executed = again.events.filter(isText('executed', again.id)).map((event) => textData(event)['node']);
      expect(executed.sort()).toEqual(['3', '4']);
      if (reusesX) {
        expect((textData(cached)['nodes'] as string[]).sort()).toEqual(['1', '2', '3', '4']);
        expect(executing).toEqual([]);
        expect(again.outputs).toEqual(first.outputs);
      } else {
        expect(textData(cached)['nodes']).toEqual([]);
        expect(executing.length).toBe(4);
        expect(again.outputs['3']!.images[0]!['filename']).not.toBe(first.outputs['3']!.images[0]!['filename']);
      }
    },
  );

  it(reusesX ? 'adds asset ids to output items, stable per file' : 'sends output items with three keys', async () => {
    const { events, outputs } = await run(basicGraph(300, 'assets'));
    const saved = outputs['3']!.images[0]!;
    const executed = events.find((event) => isText('executed')(event) && textData(event)['node'] === '3');
    expect((textData(executed)['output'] as Outputs[string]).images[0]).toEqual(saved);
    if (!reusesX) {
      expect(Object.keys(saved)).toEqual(['filename', 'subfolder', 'type']);
      return;
    }
    expect(Object.keys(saved)).toEqual(['filename', 'subfolder', 'type', 'id', 'preview_id']);
    expect(saved['id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(saved['preview_id']).toBe(saved['id']);
    expect(existsSync(join(emulator.dataDir, 'output', saved['filename'] as string))).toBe(true);
    expect(outputs['4']!.images[0]!['id']).not.toBe(saved['id']);
    const replay = await run(basicGraph(300, 'assets'));
    expect(replay.outputs['3']!.images[0]).toEqual(saved);
  });
});
