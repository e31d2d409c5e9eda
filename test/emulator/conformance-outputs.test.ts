/**
 * Conformance of the other output nodes with the recordings: SaveImageWebsocket's binary PNG, animated WebP and PNG,
 * batches into a subfolder, and PreviewAny's text.
 */
import { fetch } from 'undici';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { historyEntry, queuePrompt } from './http.js';
import { compareEvents, recording, type RecordedEvent } from './shape.js';
import { connectClient, isPromptDone, isText, textData, type RecordingClient } from './ws-client.js';

const CLIENT = 'probe-s-3788df';

interface RecordedAnimated {
  readonly history_outputs: Record<string, unknown>;
  readonly executed_events: Array<{ node: string; output: unknown }>;
  readonly views: Record<string, { status: number; content_type: string; magic: string }>;
}

describe('output nodes compared with the recordings', () => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 1 });
    client = await connectClient(emulator.url, CLIENT);
    await client.waitFor(isText('status'));
  });

  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('sends SaveImageWebsocket images as binary PNG frames and keeps no history output', async () => {
    const recorded = recording<{ events: RecordedEvent[]; history_outputs: unknown }>('save_image_websocket');
    const from = client.events.length;
    const answer = await queuePrompt(emulator.url, {
      client_id: CLIENT,
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 255 } },
        '2': { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] } },
      },
    });
    await client.waitFor(isPromptDone(answer.prompt_id), from);
    const compared = compareEvents(client.events.slice(from), recorded.events);
    expect(compared.live).toEqual(compared.recorded);
    const frame = client.events.slice(from).find((event) => event.kind === 'binary');
    const png = frame?.kind === 'binary' ? frame.bytes.subarray(8) : Buffer.alloc(0);
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 8, height: 8 });
    expect((await historyEntry<{ outputs: unknown }>(emulator.url, answer.prompt_id)).outputs).toEqual(
      recorded.history_outputs,
    );
  });

  it('saves animated WebP and PNG, a batch into a subfolder and preview text with the recorded outputs', async () => {
    const recorded = recording<RecordedAnimated>('animated_video_outputs');
    const from = client.events.length;
    const frames = ['1', 0];
    const answer = await queuePrompt(emulator.url, {
      client_id: CLIENT,
      prompt: {
        '10': { class_type: 'EmptyImage', inputs: { width: 32, height: 24, batch_size: 1, color: 0x3366cc } },
        '11': { class_type: 'EmptyImage', inputs: { width: 32, height: 24, batch_size: 1, color: 0xcc6633 } },
        '1': { class_type: 'ImageBatch', inputs: { image1: ['10', 0], image2: ['11', 0] } },
        '2': {
          class_type: 'SaveAnimatedWEBP',
          inputs: { images: frames, filename_prefix: 'anim', fps: 6.0, lossless: true, quality: 80, method: 'default' },
        },
        '3': {
          class_type: 'SaveAnimatedPNG',
          inputs: { images: frames, filename_prefix: 'apng', fps: 6.0, compress_level: 4 },
        },
        '6': { class_type: 'SaveImage', inputs: { images: frames, filename_prefix: 'batch/two' } },
        '8': { class_type: 'PreviewAny', inputs: { source: 'hello text' } },
      },
    });
    await client.waitFor(isPromptDone(answer.prompt_id), from);
    // Nodes 5 (SaveVideo) and 9 (SaveWEBM) need a video encoder; the emulator has none, so they are left out.
    const expectedOutputs = Object.fromEntries(
      Object.entries(recorded.history_outputs).filter(([node]) => !['5', '9'].includes(node)),
    );
    const entry = await historyEntry<{ outputs: Record<string, unknown> }>(emulator.url, answer.prompt_id);
    expect(entry.outputs).toEqual(expectedOutputs);
    const executed = client.events.slice(from).filter(isText('executed')).map(textData);
    expect(new Map(executed.map((data) => [data['node'], data['output']]))).toEqual(
      new Map(
        recorded.executed_events
          .filter((event) => !['5', '9'].includes(event.node))
          .map((event) => [event.node, event.output]),
      ),
    );
    for (const [key, view] of Object.entries(recorded.views).filter(
      ([key]) => !key.startsWith('5:') && !key.startsWith('9:'),
    )) {
      const [node, filename] = key.split(':') as [string, string];
      const image = (entry.outputs[node] as { images: Array<{ filename: string; subfolder: string }> }).images.find(
        (item) => item.filename === filename,
      );
      const response = await fetch(
        `${emulator.url}/view?filename=${filename}&subfolder=${image?.subfolder ?? ''}&type=output`,
      );
      const bytes = Buffer.from(await response.arrayBuffer());
      expect({
        key,
        status: response.status,
        type: response.headers.get('content-type'),
        magic: bytes.subarray(0, 4).toString('hex'),
      }).toEqual({
        key,
        status: view.status,
        type: view.content_type,
        magic: view.magic.slice(0, 8),
      });
    }
    const webp = await sharp(`${emulator.dataDir}/output/anim_00001_.webp`, { pages: -1 }).metadata();
    expect(webp.pages).toBe(2);
    const apng = await (await fetch(`${emulator.url}/view?filename=apng_00001_.png`)).arrayBuffer();
    expect(Buffer.from(apng).includes(Buffer.from('acTL'))).toBe(true);
  });
});
