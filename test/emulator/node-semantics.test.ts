import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { fetch, FormData } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { readChunks } from '../../src/emulator/media/png-chunks.js';
import { RECORDED_CHECKPOINT, textToImageGraph } from './graphs.js';
import { historyEntry, queuePrompt } from './http.js';
import { connectClient, isPromptDone, isText, type RecordingClient } from './ws-client.js';

const CLIENT = 'semantics';
type Graph = ReturnType<typeof textToImageGraph>;
type Outputs = Record<string, { images: Array<{ filename: string; subfolder: string }> }>;

describe('emulated nodes', () => {
  let emulator: Emulator;
  let client: RecordingClient;

  beforeEach(async () => {
    emulator = await startEmulator({ stepMs: 0, checkpoints: [RECORDED_CHECKPOINT] });
    client = await connectClient(emulator.url, CLIENT);
    await client.waitFor(isText('status'));
  });

  afterEach(async () => {
    await client.close();
    await emulator.close();
  });

  async function render(graph: Graph, node = '9'): Promise<Buffer[]> {
    const answer = await queuePrompt(emulator.url, { prompt: graph, client_id: CLIENT });
    await client.waitFor(isPromptDone(answer.prompt_id));
    const entry = await historyEntry<{ outputs: Outputs }>(emulator.url, answer.prompt_id);
    const images = entry.outputs[node]?.images ?? [];
    return Promise.all(
      images.map((image) => readFile(path.join(emulator.dataDir, 'output', image.subfolder, image.filename))),
    );
  }

  it('renders the same picture for the same seed, prompt and size, and another for another seed', async () => {
    const [first] = await render(textToImageGraph(7, 2, 512));
    const other = await startEmulator({ stepMs: 0, checkpoints: [RECORDED_CHECKPOINT] });
    const otherClient = await connectClient(other.url, CLIENT);
    const answer = await queuePrompt(other.url, { prompt: textToImageGraph(7, 2, 512), client_id: CLIENT });
    await otherClient.waitFor(isPromptDone(answer.prompt_id));
    const again = await readFile(path.join(other.dataDir, 'output', 'probe_t2i_00001_.png'));
    await otherClient.close();
    await other.close();
    const [differentSeed] = await render(textToImageGraph(8, 2, 512));
    expect((await rawPixels(first)).equals(await rawPixels(again))).toBe(true);
    expect((await rawPixels(differentSeed)).equals(await rawPixels(first))).toBe(false);
    expect(first?.length).toBeGreaterThan(200_000);
    expect(await sharp(first).metadata()).toMatchObject({ width: 512, height: 512, format: 'png' });
  });

  it('embeds the prompt and extra_pnginfo in saved PNGs, as ComfyUI does', async () => {
    const answer = await queuePrompt(emulator.url, {
      prompt: textToImageGraph(5, 1),
      client_id: CLIENT,
      extra_data: { extra_pnginfo: { workflow: { nodes: [] } } },
    });
    await client.waitFor(isPromptDone(answer.prompt_id));
    const png = await readFile(path.join(emulator.dataDir, 'output', 'probe_t2i_00001_.png'));
    const text = readChunks(png)
      .filter((chunk) => chunk.type === 'tEXt')
      .map((chunk) => chunk.data.toString('latin1').split('\u0000'));
    expect(text.map(([key]) => key)).toEqual(['prompt', 'workflow']);
    expect(JSON.parse(text[0]?.[1] ?? '')).toMatchObject({ '3': { class_type: 'KSampler' } });
    expect(JSON.parse(text[1]?.[1] ?? '')).toEqual({ nodes: [] });
  });

  it('writes one file per latent in a batch, each different', async () => {
    const graph = textToImageGraph(1, 1);
    graph['5']!.inputs['batch_size'] = 2;
    const files = await render(graph);
    expect(files).toHaveLength(2);
    expect((await rawPixels(files[0])).equals(await rawPixels(files[1]))).toBe(false);
  });

  it('keeps the input picture through VAEEncode and a KSampler with denoise 0', async () => {
    const source = await sharp({ create: { width: 44, height: 36, channels: 3, background: '#4080c0' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('image', new Blob([source], { type: 'image/png' }), 'source.png');
    await fetch(`${emulator.url}/upload/image`, { method: 'POST', body: form });
    const graph = textToImageGraph(1, 1);
    graph['10'] = { class_type: 'LoadImage', inputs: { image: 'source.png' } };
    graph['11'] = { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } };
    Object.assign(graph['3']!.inputs, { latent_image: ['11', 0], denoise: 0 });
    delete graph['5'];
    const [output] = await render(graph);
    const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([40, 32]);
    expect([...data.subarray(0, 3)]).toEqual([0x40, 0x80, 0xc0]);
  });

  it('upscales with a model by its factor and scales by a ratio', async () => {
    const graph = textToImageGraph(1, 1, 32);
    graph['10'] = { class_type: 'UpscaleModelLoader', inputs: { model_name: 'RealESRGAN_x4plus.pth' } };
    graph['11'] = { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['10', 0], image: ['8', 0] } };
    graph['12'] = { class_type: 'ImageScaleBy', inputs: { image: ['11', 0], upscale_method: 'area', scale_by: 0.5 } };
    graph['9']!.inputs['images'] = ['12', 0];
    const [output] = await render(graph);
    expect(await sharp(output).metadata()).toMatchObject({ width: 64, height: 64 });
  });

  it('changes the picture when a LoRA is applied', async () => {
    const [plain] = await render(textToImageGraph(3, 1));
    const graph = textToImageGraph(3, 1);
    graph['10'] = {
      class_type: 'LoraLoader',
      inputs: {
        model: ['4', 0],
        clip: ['4', 1],
        lora_name: 'detail.safetensors',
        strength_model: 0.8,
        strength_clip: 1,
      },
    };
    graph['3']!.inputs['model'] = ['10', 0];
    graph['6']!.inputs['clip'] = ['10', 1];
    graph['7']!.inputs['clip'] = ['10', 1];
    const [patched] = await render(graph);
    expect((await rawPixels(plain)).equals(await rawPixels(patched))).toBe(false);
  });

  it('sends no preview frames when previews are off', async () => {
    await render(textToImageGraph(4, 3));
    expect(client.events.filter((event) => event.kind === 'binary')).toEqual([]);
  });

  it('sends decodable JPEG previews when previews are on', async () => {
    const withPreviews = await startEmulator({ stepMs: 0, previews: true, checkpoints: [RECORDED_CHECKPOINT] });
    const watcher = await connectClient(withPreviews.url, CLIENT);
    const answer = await queuePrompt(withPreviews.url, { prompt: textToImageGraph(4, 3), client_id: CLIENT });
    await watcher.waitFor(isPromptDone(answer.prompt_id));
    const frames = watcher.events.filter((event) => event.kind === 'binary');
    await watcher.close();
    await withPreviews.close();
    expect(frames.map((frame) => (frame.kind === 'binary' ? [frame.event, frame.bytes.readUInt32BE(4)] : []))).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    const jpeg = frames[0]?.kind === 'binary' ? frames[0].bytes.subarray(8) : Buffer.alloc(0);
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 512, height: 512 });
  });
});

async function rawPixels(png: Buffer | undefined): Promise<Buffer> {
  if (!png) throw new Error('no image');
  return sharp(png).raw().toBuffer();
}
