import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { historyEntry, queuePrompt } from './http.js';
import { connectClient, isPromptDone, type RecordingClient } from './ws-client.js';

const CLIENT = 'vhs';

interface GifsItem {
  filename: string;
  subfolder: string;
  type: string;
  format: string;
  frame_rate: number;
  workflow: string;
  fullpath: string;
}

interface Entry {
  outputs: Record<string, { gifs?: GifsItem[] }>;
  status: { status_str: string; messages: Array<[string, Record<string, unknown>]> };
}

/** Four frames, two colours in turn, into VHS_VideoCombine. */
function combineGraph(format: string, saveOutput = true): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 32, height: 24, batch_size: 1, color: 0x3366cc } },
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
    '5': { class_type: 'ImageBatch', inputs: { image1: ['1', 0], image2: ['2', 0] } },
    '3': { class_type: 'ImageBatch', inputs: { image1: ['5', 0], image2: ['5', 0] } },
    '4': {
      class_type: 'VHS_VideoCombine',
      inputs: {
        images: ['3', 0],
        frame_rate: 8,
        loop_count: 0,
        filename_prefix: 'clips/AnimateDiff',
        format,
        pingpong: false,
        save_output: saveOutput,
      },
    },
  };
}

describe("VideoHelperSuite's Video Combine in the emulator", () => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 0 });
    client = await connectClient(emulator.url, CLIENT);
  });

  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  async function run(graph: Record<string, unknown>): Promise<Entry> {
    const answer = await queuePrompt(emulator.url, { prompt: graph, client_id: CLIENT });
    await client.waitFor(isPromptDone(answer.prompt_id));
    return historyEntry<Entry>(emulator.url, answer.prompt_id);
  }

  it('writes an animated GIF and reports it under gifs in the pack’s shape, beside a first-frame PNG', async () => {
    const entry = await run(combineGraph('image/gif'));
    const [item] = entry.outputs['4']!.gifs!;
    expect(Object.keys(item!)).toEqual([
      'filename',
      'subfolder',
      'type',
      'format',
      'frame_rate',
      'workflow',
      'fullpath',
    ]);
    expect(item).toMatchObject({
      filename: 'AnimateDiff_00001.gif',
      subfolder: 'clips',
      type: 'output',
      format: 'image/gif',
      frame_rate: 8,
      workflow: 'AnimateDiff_00001.png',
    });
    expect(item!.fullpath).toBe(path.join(emulator.dataDir, 'output', 'clips', 'AnimateDiff_00001.gif'));
    const gif = await sharp(await readFile(item!.fullpath), { pages: -1 }).metadata();
    expect([gif.format, gif.pages, gif.width, gif.pageHeight]).toEqual(['gif', 4, 32, 24]);
    const png = await sharp(await readFile(path.join(emulator.dataDir, 'output', 'clips', item!.workflow))).metadata();
    expect(png.format).toBe('png');
  });

  it('writes to temp when save_output is off, and counts its own files', async () => {
    const entry = await run(combineGraph('image/webp', false));
    expect(entry.outputs['4']!.gifs![0]).toMatchObject({ type: 'temp', format: 'image/webp' });
    const again = await run(combineGraph('image/gif'));
    expect(again.outputs['4']!.gifs![0]!.filename).toBe('AnimateDiff_00002.gif');
  });

  it('fails a video format as the pack does on a server without ffmpeg', async () => {
    const entry = await run(combineGraph('video/h264-mp4'));
    expect(entry.status.status_str).toBe('error');
    const error = entry.status.messages.find(([type]) => type === 'execution_error')?.[1];
    expect(error).toMatchObject({ node_type: 'VHS_VideoCombine', exception_type: 'ProcessLookupError' });
    expect(String(error?.['exception_message'])).toMatch(/^ffmpeg is required for video outputs/);
  });
});
