import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/comfy/job-state.js';
import { textToImage } from './fixtures/graphs.js';
import { Harness, record, startTestEmulator, VERSIONS, terminalCount, typesOf } from './fixtures/harness.js';

const outputsOf = (events: readonly JobEvent[]) =>
  events.filter((event): event is Extract<JobEvent, { type: 'output' }> => event.type === 'output');

describe.each(VERSIONS)('ComfyClient against the emulator (ComfyUI %s)', (version) => {
  let harness: Harness;

  beforeEach(async () => {
    harness = new Harness(await startTestEmulator(version));
  });

  afterEach(async () => {
    await harness.close();
  });

  it('runs a prompt to success: started, progress, the output once, then succeeded with the saved file', async () => {
    const client = harness.client();
    const job = await client.submit(textToImage({ steps: 4 }));
    const events = record(job);
    const outcome = await job.done;

    expect(outcome.status).toBe('succeeded');
    if (outcome.status !== 'succeeded') return;
    expect(outcome.outputs).toEqual([
      expect.objectContaining({ node: '9', type: 'output', kind: 'image', mimeType: 'image/png' }),
    ]);
    expect(typesOf(events)[0]).toBe('started');
    expect(events.filter((event) => event.type === 'progress').length).toBeGreaterThanOrEqual(4);
    expect(outputsOf(events).map((event) => event.node)).toEqual(['9']);
    expect(terminalCount(events)).toBe(1);
    expect(typesOf(events).at(-1)).toBe('succeeded');
    expect(harness.emu.received).toHaveLength(1);
    expect(job.snapshot.phase).toBe('succeeded');
  });

  it('downloads exactly the bytes the server wrote', async () => {
    const client = harness.client();
    const outcome = await (await client.submit(textToImage())).done;
    if (outcome.status !== 'succeeded') throw new Error(`unexpected ${outcome.status}`);
    const file = outcome.outputs[0]!;
    const onDisk = await readFile(join(harness.emu.dataDir, 'output', file.subfolder, file.filename));

    const download = await client.download(file);
    expect(download.mimeType).toBe('image/png');
    expect(Buffer.compare(download.bytes, onDisk)).toBe(0);

    const stream = await client.downloadStream(file);
    const chunks: Buffer[] = [];
    for await (const chunk of stream.body) chunks.push(chunk as Buffer);
    expect(Buffer.compare(Buffer.concat(chunks), onDisk)).toBe(0);
    expect(stream.size).toBe(onDisk.byteLength);
  });

  it('fails a download of a missing file with a not-found error', async () => {
    const client = harness.client();
    await expect(client.download({ filename: 'nope.png', subfolder: '', type: 'output' })).rejects.toMatchObject({
      identifier: 'comfy-not-found',
      status: 404,
    });
  });

  it('completes a fully cached re-run, which sends executed but no per-node executing', async () => {
    const client = harness.client();
    const first = await (await client.submit(textToImage())).done;
    const job = await client.submit(textToImage());
    const events = record(job);
    const second = await job.done;

    expect(second.status).toBe('succeeded');
    if (first.status !== 'succeeded' || second.status !== 'succeeded') return;
    expect(second.outputs).toEqual(first.outputs);
    expect(events.filter((event) => event.type === 'progress')).toEqual([]);
    expect(outputsOf(events)).toHaveLength(1);
    expect(terminalCount(events)).toBe(1);
  });

  it('completes a partly cached run with a new file', async () => {
    const client = harness.client();
    const first = await (await client.submit(textToImage({ seed: 1 }))).done;
    const second = await (await client.submit(textToImage({ seed: 2 }))).done;
    if (first.status !== 'succeeded' || second.status !== 'succeeded') throw new Error('expected two successes');
    expect(second.outputs).toHaveLength(1);
    expect(second.outputs[0]!.filename).not.toBe(first.outputs[0]!.filename);
  });

  it('delivers previews with metadata to a client that sends feature flags', async () => {
    const client = harness.client();
    const job = await client.submit(textToImage({ steps: 3 }));
    const events = record(job);
    await job.done;
    const previews = events.filter(
      (event): event is Extract<JobEvent, { type: 'preview' }> => event.type === 'preview',
    );
    expect(previews.length).toBeGreaterThan(0);
    for (const preview of previews) {
      expect(['image/jpeg', 'image/png']).toContain(preview.mimeType);
      expect(preview.bytes.byteLength).toBeGreaterThan(8);
      expect(preview.node).toBe('3');
    }
  });

  it('delivers legacy previews to a client without feature flags', async () => {
    const client = harness.client({ featureFlags: false });
    const job = await client.submit(textToImage({ steps: 3 }));
    const events = record(job);
    await job.done;
    const previews = events.filter(
      (event): event is Extract<JobEvent, { type: 'preview' }> => event.type === 'preview',
    );
    expect(previews.length).toBeGreaterThan(0);
    const magic = Buffer.from(previews[0]!.bytes.subarray(0, 2)).toString('hex');
    expect(magic).toBe(previews[0]!.mimeType === 'image/png' ? '8950' : 'ffd8');
    expect(previews[0]!.node).toBeUndefined();
  });

  it('uploads an input image where LoadImage can read it', async () => {
    const client = harness.client();
    const output = await (await client.submit(textToImage())).done;
    if (output.status !== 'succeeded') throw new Error('expected a success');
    const { bytes } = await client.download(output.outputs[0]!);
    const uploaded = await client.upload(bytes, 'client_upload.png', { subfolder: 'tests', overwrite: true });
    expect(uploaded).toEqual({ name: 'client_upload.png', subfolder: 'tests', type: 'input' });
    const stored = await readFile(join(harness.emu.dataDir, 'input', 'tests', 'client_upload.png'));
    expect(Buffer.compare(stored, bytes)).toBe(0);
  });

  it('reads object info, system stats, features and the queue', async () => {
    const client = harness.client();
    const info = await client.objectInfo();
    expect(info.nodes.get('SaveImage')?.outputNode).toBe(true);
    expect(info.nodes.get('KSampler')).toBeDefined();
    expect((await client.systemStats()).devices.length).toBeGreaterThan(0);
    expect((await client.features()).supports_preview_metadata).toBe(true);
    expect(await client.queue()).toEqual({ running: [], pending: [] });
  });
});
