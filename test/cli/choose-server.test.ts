import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cliConfig, linesOf, runCli, TempDirs, writePng } from './helpers.js';

// "gpu-2" lacks the SDXL checkpoint and the upscale model; "gpu-1" has everything.
let full: Emulator;
let lacking: Emulator;
const temp = new TempDirs();

beforeAll(async () => {
  [full, lacking] = await Promise.all([
    startEmulator({ port: 0, stepMs: 1 }),
    startEmulator({ port: 0, stepMs: 1, checkpoints: ['v1-5-pruned-emaonly.safetensors'], upscaleModels: [] }),
  ]);
});

afterAll(async () => {
  await Promise.all([full?.close(), lacking?.close()]);
  await temp.removeAll();
});

describe('choosing a server for a generation', () => {
  it('skips a server that lacks the workflow’s model for the next one that has it', async () => {
    const out = await temp.make();
    const config = cliConfig({ COMFY_URLS: `gpu-2=${lacking.url},gpu-1=${full.url}` });
    const before = lacking.received.length;
    const result = await runCli(['an astronaut', '--wf', 'sdxl', '--steps', '10', '--out', out], config);
    expect(result.code).toBe(0);
    expect(linesOf(result.stdout)[0]).toMatch(/^sdxl on gpu-1: /);
    expect(lacking.received.length).toBe(before);
  });

  it('prefers the workflow itself on a later server to its fallback on the first', async () => {
    const out = await temp.make();
    const input = await writePng(out, 32, 32, 'in.png');
    const config = cliConfig({ COMFY_URLS: `gpu-2=${lacking.url},gpu-1=${full.url}` });
    const result = await runCli(['--wf', 'upscale', '--image', input, '--out', path.join(out, 'out')], config);
    expect(result.code).toBe(0);
    expect(linesOf(result.stdout)[0]).toMatch(/^upscale on gpu-1: image comfycord\//);
  });

  it('falls back to upscale-basic where no server has the upscale model, and says so', async () => {
    const out = await temp.make();
    const input = await writePng(out, 32, 32, 'in.png');
    const config = cliConfig({ COMFY_URLS: `gpu-2=${lacking.url}` });
    const result = await runCli(['--wf', 'upscale', '--image', input, '--out', path.join(out, 'out')], config);
    expect(result.code).toBe(0);
    expect(linesOf(result.stdout)[0]).toMatch(
      /^upscale-basic \(instead of upscale, which no server can run\) on gpu-2: image comfycord\//,
    );
    expect(lacking.received.at(-1)?.prompt['2']).toMatchObject({ class_type: 'ImageScaleBy' });
  });

  it('uses only the server --server names, even when an earlier one could run the job', async () => {
    const out = await temp.make();
    const config = cliConfig({ COMFY_URLS: `gpu-1=${full.url},gpu-2=${lacking.url}` });
    const before = lacking.received.length;
    const result = await runCli(['a fox', '--steps', '2', '--server', 'gpu-2', '--out', out], config);
    expect(result.code).toBe(0);
    expect(lacking.received.length).toBe(before + 1);
  });

  it('passes over a server that does not answer to the next one that does', async () => {
    const down = await startEmulator({ port: 0 });
    await down.close();
    const out = await temp.make();
    const config = cliConfig({ COMFY_URLS: `gone=${down.url},gpu-1=${full.url}` });
    const result = await runCli(['a fox', '--steps', '2', '--out', out], config);
    expect(result.code).toBe(0);
    expect(linesOf(result.stdout)[0]).toMatch(/^txt2img on gpu-1: /);
  });
});
