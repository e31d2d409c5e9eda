import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { connectClient, isPromptDone, type RecordingClient, type TextEvent } from './ws-client.js';

const graph = {
  '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 48, batch_size: 1, color: 16711680 } },
  '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'probe' } },
  '4': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
};

describe('the emulator running a simple graph', () => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeEach(async () => {
    emulator = await startEmulator({ stepMs: 1 });
    client = await connectClient(emulator.url, 'basic-client');
  });

  afterEach(async () => {
    await client.close();
    await emulator.close();
  });

  it('accepts the prompt, runs it and serves the saved file', async () => {
    const response = await fetch(`${emulator.url}/prompt`, {
      method: 'POST',
      body: JSON.stringify({ prompt: graph, client_id: 'basic-client' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { prompt_id: string; number: number };
    expect(body.number).toBe(0);
    await client.waitFor(isPromptDone(body.prompt_id));

    const executed = client.events.filter(
      (event): event is TextEvent => event.kind === 'text' && event.type === 'executed',
    );
    expect(executed.map((event) => event.data['node'])).toEqual(['4', '3']);

    const history = (await (await fetch(`${emulator.url}/history/${body.prompt_id}`)).json()) as Record<
      string,
      { status: { status_str: string }; outputs: Record<string, { images: unknown[] }> }
    >;
    const entry = history[body.prompt_id];
    expect(entry?.status.status_str).toBe('success');
    expect(entry?.outputs['3']?.images).toEqual([{ filename: 'probe_00001_.png', subfolder: '', type: 'output' }]);

    const view = await fetch(`${emulator.url}/view?filename=probe_00001_.png&type=output`);
    expect(view.headers.get('content-type')).toBe('image/png');
    const onDisk = await readFile(path.join(emulator.dataDir, 'output', 'probe_00001_.png'));
    expect(Buffer.from(await view.arrayBuffer()).equals(onDisk)).toBe(true);
    expect(emulator.received).toHaveLength(1);
  });
});
