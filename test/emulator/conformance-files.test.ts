/**
 * Conformance of uploads, LoadImage runs and /view with the recordings, and checks that what is served is the file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { fetch, FormData } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { basicGraph } from './graphs.js';
import { historyEntry, queuePrompt } from './http.js';
import { compareEvents, recording, shapeOf, type RecordedEvent } from './shape.js';
import { connectClient, isPromptDone, isText, type RecordingClient } from './ws-client.js';

const CLIENT = 'probe-0c3af2a2';
/** Headers of aiohttp's transport that say nothing about ComfyUI (Node answers keep-alive, names no Server). */
const UNCOMPARED_HEADERS = new Set(['Server', 'Connection', 'Date']);
const PNG = readFile(new URL('../fixtures/recorded/downloaded.png', import.meta.url));

async function upload(baseUrl: string, fields: Record<string, string>, file?: { name: string; bytes: Buffer }) {
  const form = new FormData();
  if (file) form.append('image', new Blob([file.bytes], { type: 'image/png' }), file.name);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(`${baseUrl}/upload/image`, { method: 'POST', body: form });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

describe('uploads, LoadImage and /view compared with the recordings', () => {
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

  it('stores uploads with dedup by content, renames on conflict, and honours subfolder, type and overwrite', async () => {
    const recorded = recording<Record<string, { status: number; body: unknown }>>('upload_image');
    const bytes = await PNG;
    const other = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    const answers = {
      overwrite_true: await upload(emulator.url, { overwrite: 'true' }, { name: 'probe_upload.png', bytes }),
      same_again: await upload(emulator.url, {}, { name: 'probe_upload.png', bytes }),
      different_same_name: await upload(emulator.url, {}, { name: 'probe_upload.png', bytes: other }),
      subfolder: await upload(emulator.url, { subfolder: 'probe_dir' }, { name: 'probe_sub.png', bytes }),
      type_temp: await upload(emulator.url, { type: 'temp' }, { name: 'probe_tmp.png', bytes }),
      no_image: await upload(emulator.url, { overwrite: 'true' }),
    };
    expect(answers).toEqual(recorded);
    const stored = await readFile(path.join(emulator.dataDir, 'input', 'probe_upload (1).png'));
    expect(stored.equals(other)).toBe(true);
    const combo = await (await fetch(`${emulator.url}/object_info/LoadImage`)).json();
    expect(JSON.stringify(combo)).toContain('"probe_upload (1).png"');
  });

  it('runs LoadImage on an upload (also from a subfolder) like the recording, resizing for real', async () => {
    const recorded = recording<{
      events: RecordedEvent[];
      history: Record<string, unknown>;
      subfolder_history: Record<string, unknown>;
    }>('load_image_run');
    const from = client.events.length;
    const first = await queuePrompt(emulator.url, {
      client_id: CLIENT,
      prompt: {
        '1': { class_type: 'LoadImage', inputs: { image: 'probe_upload.png' } },
        '2': {
          class_type: 'ImageScale',
          inputs: { image: ['1', 0], upscale_method: 'bilinear', width: 32, height: 24, crop: 'disabled' },
        },
        '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'probe_loaded' } },
      },
    });
    await client.waitFor(isPromptDone(first.prompt_id), from);
    const second = await queuePrompt(emulator.url, {
      client_id: CLIENT,
      prompt: {
        '1': { class_type: 'LoadImage', inputs: { image: 'probe_dir/probe_sub.png' } },
        '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'probe_sub/loaded' } },
      },
    });
    await client.waitFor(isPromptDone(second.prompt_id), from);
    const compared = compareEvents(client.events.slice(from), recorded.events);
    expect(compared.live).toEqual(compared.recorded);
    const entry = await historyEntry<{ outputs: unknown }>(emulator.url, first.prompt_id);
    expect(shapeOf(entry)).toEqual(shapeOf(Object.values(recorded.history)[0]));
    const subEntry = await historyEntry<{ outputs: unknown }>(emulator.url, second.prompt_id);
    expect(subEntry.outputs).toEqual((Object.values(recorded.subfolder_history)[0] as { outputs: unknown }).outputs);
    const saved = await sharp(path.join(emulator.dataDir, 'output', 'probe_loaded_00001_.png')).metadata();
    expect([saved.width, saved.height]).toEqual([32, 24]);
  });

  it('serves files with the recorded headers, previews and channels, and the recorded error statuses', async () => {
    const recorded =
      recording<Record<string, { status: number; headers?: Record<string, string>; magic?: string }>>('view');
    const answer = await queuePrompt(emulator.url, { prompt: basicGraph(), client_id: CLIENT });
    await client.waitFor(isPromptDone(answer.prompt_id));
    const entry = await historyEntry<{ outputs: Record<string, { images: Array<{ filename: string }> }> }>(
      emulator.url,
      answer.prompt_id,
    );
    const tempName = entry.outputs['4']?.images[0]?.filename ?? '';
    const cases: Record<string, string> = {
      output: '/view?filename=probe_00001_.png&type=output&subfolder=',
      temp: `/view?filename=${tempName}&type=temp`,
      preview_webp: '/view?filename=probe_00001_.png&type=output&preview=webp;90',
      channel_rgb: '/view?filename=probe_00001_.png&type=output&channel=rgb',
      missing: '/view?filename=nope.png&type=output',
      api_prefix: '/api/view?filename=probe_00001_.png&type=output',
    };
    for (const [name, url] of Object.entries(cases)) {
      const response = await fetch(`${emulator.url}${url}`);
      const body = Buffer.from(await response.arrayBuffer());
      const expected = recorded[name] as { status: number; headers?: Record<string, string>; magic?: string };
      expect({ name, status: response.status }).toEqual({ name, status: expected.status });
      const headers = Object.keys(expected.headers ?? {}).filter((header) => !UNCOMPARED_HEADERS.has(header));
      for (const header of headers)
        expect({ name, header, present: response.headers.has(header) }).toEqual({ name, header, present: true });
      if (expected.headers?.['Content-Type'])
        expect(response.headers.get('Content-Type')).toBe(expected.headers['Content-Type']);
      // Only the format's signature is compared (the rest of the magic holds sizes).
      if (expected.magic) expect(body.subarray(0, 4).toString('hex')).toBe(expected.magic.slice(0, 8));
    }
    const onDisk = await readFile(path.join(emulator.dataDir, 'output', 'probe_00001_.png'));
    const served = Buffer.from(await (await fetch(`${emulator.url}/view?filename=probe_00001_.png`)).arrayBuffer());
    expect(served.equals(onDisk)).toBe(true);
    const statuses = await Promise.all(
      [
        '/view',
        '/view?filename=probe_00001_.png&type=nope',
        '/view?filename=../x.png',
        '/view?filename=probe_00001_.png&subfolder=../..',
      ].map(async (url) => (await fetch(`${emulator.url}${url}`)).status),
    );
    expect(statuses).toEqual([404, 400, 400, 403]);
  });
});
