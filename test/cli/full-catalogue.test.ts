import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cliConfig, emulatorOutput, filesIn, runCli, SEED_WORKFLOW, TempDirs, writePng } from './helpers.js';

/**
 * `npm run generate` against an emulator that lists the recorded ComfyUI 0.3.64 catalogue in full: 478 node types in
 * the shapes a real server sends (103 with `"display_name": null`, V3 combos, `api_node`...). This is the server a new
 * user points comfycord at; every shipped workflow and the seed's must run on it.
 */
let emulator: Emulator;
let config: Config;
let inputPng: string;
const temp = new TempDirs();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, stepMs: 0, catalogue: 'full' });
  config = cliConfig({ COMFY_URLS: emulator.url });
  inputPng = await writePng(await temp.make(), 64, 48);
});

afterAll(async () => {
  await emulator?.close();
  await temp.removeAll();
});

async function generate(argv: string[], runConfig = config): Promise<string[]> {
  const out = await temp.make('comfycord-cli-full-');
  const result = await runCli([...argv, '--out', out], runConfig);
  expect({ argv, stderr: result.stderr, code: result.code }).toEqual({ argv, stderr: '', code: 0 });
  const files = await filesIn(out);
  expect(files.length, argv.join(' ')).toBeGreaterThan(0);
  for (const file of files) {
    expect((await readFile(file)).equals(await emulatorOutput(emulator.dataDir, path.basename(file)))).toBe(true);
  }
  return files;
}

describe('npm run generate against the full recorded catalogue', () => {
  it.each([
    ['txt2img', ['a red fox in the snow', '--wf', 'txt2img', '--steps', '2']],
    ['sdxl', ['an astronaut on a horse', '--wf', 'sdxl', '--steps', '10']],
    ['animated', ['a paper lantern', '--wf', 'animated', '--steps', '2']],
    ['img2img', ['the same, as a watercolour', '--wf', 'img2img', '--steps', '2']],
    ['upscale', ['--wf', 'upscale']],
    ['upscale-basic', ['--wf', 'upscale-basic']],
  ])('runs %s and writes the emulator’s files', async (name, argv) => {
    const withImage = ['img2img', 'upscale', 'upscale-basic'].includes(name) ? ['--image', inputPng] : [];
    await generate([...argv, ...withImage]);
  });

  it('runs the seed demo’s workflow', async () => {
    const dir = await temp.make('comfycord-cli-full-seed-');
    await copyFile(SEED_WORKFLOW, path.join(dir, 'simple_workflow.json'));
    const files = await generate(
      ['children playing football', '--steps', '2'],
      cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: dir }),
    );
    expect(files.map((file) => path.extname(file))).toEqual(['.png']);
  });
});
