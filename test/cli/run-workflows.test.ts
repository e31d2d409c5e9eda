import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { COMFY_VERSIONS, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cliConfig, emulatorOutput, filesIn, linesOf, runCli, SEED_WORKFLOW, TempDirs, writePng } from './helpers.js';

let emulator: Emulator;
let config: Config;
let inputPng: string;
const temp = new TempDirs();

beforeAll(async () => {
  inputPng = await writePng(await temp.make(), 64, 48);
});

afterAll(async () => {
  await temp.removeAll();
});

/** Runs the CLI into a fresh folder; asserts success and that every file is byte for byte the emulator's output. */
async function generate(argv: string[], runConfig = config) {
  const out = await temp.make('comfycord-cli-out-');
  const result = await runCli([...argv, '--out', out], runConfig);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const files = await filesIn(out);
  for (const file of files) {
    expect((await readFile(file)).equals(await emulatorOutput(emulator.dataDir, path.basename(file)))).toBe(true);
  }
  const metadata = await Promise.all(files.map(async (file) => sharp(await readFile(file), { pages: -1 }).metadata()));
  return { ...result, files, metadata, graph: emulator.received.at(-1)!.prompt };
}

// Every shipped workflow (and the seed's) runs against the emulator as ComfyUI 0.3.64 and as current ComfyUI.
describe.each(COMFY_VERSIONS)('npm run generate against the emulator as ComfyUI %s', (version) => {
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, stepMs: 1, version });
    config = cliConfig({ COMFY_URLS: emulator.url });
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('runs txt2img with the flags of the example and writes two PNGs of the asked aspect and seed', async () => {
    const run = await generate([
      'a red fox in the snow',
      '--workflow',
      'txt2img',
      '--ar',
      '3:2',
      '--seed',
      '42',
      '--n',
      '2',
    ]);
    expect(run.files.map((file) => path.basename(file))).toEqual([
      expect.stringMatching(/^txt2img_\d+_\.png$/),
      expect.stringMatching(/^txt2img_\d+_\.png$/),
    ]);
    expect(run.metadata.map((meta) => [meta.format, meta.width, meta.height])).toEqual([
      ['png', 624, 416],
      ['png', 624, 416],
    ]);
    expect(run.graph['3']).toMatchObject({ inputs: { seed: 42, steps: 25 } });
    expect(run.graph['6']).toMatchObject({ inputs: { text: 'a red fox in the snow' } });
    const lines = linesOf(run.stdout);
    expect(lines[0]).toBe('txt2img on comfy1: 624×416, 2 images, seed 42, 25 steps, cfg 7.');
    expect(lines).toContain(`Wrote ${run.files[0]}`);
    expect(lines.at(-1)).toMatch(/^Done in \d+\.\d s on comfy1 \(seed 42\)\.$/);
  });

  it('prints the queue, running and progress as plain lines when the output is not a terminal', async () => {
    const run = await generate(['a quiet harbour', '--steps', '10']);
    const lines = linesOf(run.stdout);
    expect(lines[1]).toMatch(/^Submitted to comfy1 as prompt [\w-]+\.$/);
    expect(lines).toContain('Running on comfy1.');
    expect(lines).toContainEqual(expect.stringMatching(/^Progress: 100% \(10\/10\) node 3 \(KSampler\)/));
    expect(run.stdout).not.toContain('\r');
  });

  it('runs sdxl at its own resolution', async () => {
    const run = await generate(['an astronaut on a horse', '--wf', 'sdxl', '--ar', '16:9', '--steps', '10']);
    expect(run.metadata.map((meta) => [meta.format, meta.width, meta.height])).toEqual([['png', 1344, 768]]);
    expect(run.graph['4']).toMatchObject({ inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } });
  });

  it('runs img2img with an uploaded --image, chosen without naming it because an image is given', async () => {
    const run = await generate(['the same, as a watercolour', '--image', inputPng, '--denoise', '0.5']);
    expect(run.stdout).toMatch(/^img2img on comfy1: seed \d+, 25 steps, cfg 7, denoise 0\.5, image comfycord\//);
    expect(run.graph['10']).toMatchObject({
      class_type: 'LoadImage',
      inputs: { image: expect.stringMatching(/^comfycord\//) },
    });
    expect(run.graph['3']).toMatchObject({ inputs: { denoise: 0.5 } });
    expect(run.metadata.map((meta) => meta.format)).toEqual(['png']);
  });

  it('runs upscale with --image: twice the input’s size', async () => {
    const run = await generate(['--wf', 'upscale', '--image', inputPng]);
    expect(run.graph['2']).toMatchObject({ class_type: 'UpscaleModelLoader' });
    expect(run.metadata.map((meta) => [meta.format, meta.width, meta.height])).toEqual([['png', 128, 96]]);
  });

  it('runs upscale-basic with --image: twice the input’s size by resampling', async () => {
    const run = await generate(['--wf', 'upscale-basic', '--image', inputPng]);
    expect(Object.values(run.graph).map((node) => (node as { class_type: string }).class_type)).toEqual([
      'LoadImage',
      'ImageScaleBy',
      'SaveImage',
    ]);
    expect(run.metadata.map((meta) => [meta.format, meta.width, meta.height])).toEqual([['png', 128, 96]]);
  });

  it('runs animated and writes an animated WebP', async () => {
    const run = await generate(['a paper lantern', '--wf', 'animated', '--steps', '3']);
    expect(run.files.map((file) => path.extname(file))).toEqual(['.webp']);
    expect(run.metadata[0]).toMatchObject({ format: 'webp', pages: 8 });
  });

  it('runs the seed demo’s workflow from a folder with no manifest, with its settings inferred', async () => {
    const dir = await temp.make('comfycord-cli-seed-');
    await copyFile(SEED_WORKFLOW, path.join(dir, 'simple_workflow.json'));
    const seedConfig = cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: dir });
    const run = await generate(['children playing football', '--seed', '7', '--ar', '2:3', '--steps', '5'], seedConfig);
    expect(run.stdout).toMatch(/^simple_workflow on comfy1: /);
    expect(run.graph['3']).toMatchObject({ inputs: { seed: 7, steps: 5 } });
    expect(run.graph['6']).toMatchObject({ inputs: { text: 'children playing football' } });
    expect(run.metadata.map((meta) => [meta.format, meta.height! > meta.width!])).toEqual([['png', true]]);
  });

  it('applies --set by node id and by title after the settings are bound', async () => {
    const run = await generate([
      'a fox',
      '--steps',
      '4',
      '--set',
      '3.sampler_name=dpmpp_2m',
      '--set',
      'KSampler.scheduler=karras',
      '--set',
      'Save Image.filename_prefix=cli/fox',
    ]);
    expect(run.graph['3']).toMatchObject({ inputs: { sampler_name: 'dpmpp_2m', scheduler: 'karras', steps: 4 } });
    expect(run.files.map((file) => path.basename(file))).toEqual([expect.stringMatching(/^fox_\d+_\.png$/)]);
  });

  it("checks --set values before submitting: one outside the server's range is refused with a sentence", async () => {
    const dir = await temp.make('comfycord-cli-two-outputs-');
    const graph = JSON.parse(await readFile(SEED_WORKFLOW, 'utf8')) as Record<string, unknown>;
    graph['10'] = { class_type: 'ImageScaleBy', inputs: { upscale_method: 'lanczos', scale_by: 2, image: ['8', 0] } };
    graph['11'] = { class_type: 'SaveImage', inputs: { filename_prefix: 'big', images: ['10', 0] } };
    await writeFile(path.join(dir, 'two.json'), JSON.stringify(graph));
    const twoConfig = cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: dir });
    const submitted = emulator.received.length;
    const result = await runCli(['a fox', '--steps', '2', '--set', '10.scale_by=99'], twoConfig);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^No server can run two: .*node 10 \(ImageScaleBy\) input scale_by is 99, outside/);
    expect(emulator.received.length).toBe(submitted);
  });

  it('applies --set before checking, so it rescues a graph naming a checkpoint the server lacks', async () => {
    const dir = await temp.make('comfycord-cli-rescue-');
    const graph = JSON.parse(await readFile(SEED_WORKFLOW, 'utf8')) as Record<string, { inputs: object }>;
    graph['4']!.inputs = { ckpt_name: 'missing-model.safetensors' };
    await writeFile(path.join(dir, 'rescue.json'), JSON.stringify(graph));
    const rescueConfig = cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: dir });
    const refused = await runCli(['a fox', '--steps', '2'], rescueConfig);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('lacks checkpoint missing-model.safetensors');
    const run = await generate(
      ['a fox', '--steps', '2', '--set', '4.ckpt_name=v1-5-pruned-emaonly.safetensors'],
      rescueConfig,
    );
    expect(run.graph['4']).toMatchObject({ inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } });
    expect(run.files).toHaveLength(1);
  });

  it('runs an API-format file given to --workflow, with no manifest: everything inferred', async () => {
    const dir = await temp.make('comfycord-cli-file-');
    const file = path.join(dir, 'fox.json');
    await copyFile(SEED_WORKFLOW, file);
    const run = await generate(['a fox in a field', '--workflow', file, '--seed', '3', '--steps', '2']);
    expect(run.stdout).toMatch(/^fox on comfy1: /);
    expect(run.graph['6']).toMatchObject({ inputs: { text: 'a fox in a field' } });
    expect(run.graph['3']).toMatchObject({ inputs: { seed: 3, steps: 2 } });
  });

  it('reads the manifest beside a file given to --workflow', async () => {
    const dir = await temp.make('comfycord-cli-file-');
    const file = path.join(dir, 'fox.json');
    await copyFile(SEED_WORKFLOW, file);
    const manifest = { name: 'foxy', settings: { steps: { default: 3, max: 5 } } };
    await writeFile(path.join(dir, 'fox.manifest.json'), JSON.stringify(manifest));
    const run = await generate(['a fox', `--workflow=${file}`]);
    expect(run.stdout).toMatch(/^foxy on comfy1: /);
    expect(run.graph['3']).toMatchObject({ inputs: { steps: 3 } });
    const refused = await runCli(['a fox', '--workflow', file, '--steps', '9'], config);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('steps must be between 1 and 5 for foxy.\n');
  });

  it('says which file --workflow could not read', async () => {
    const result = await runCli(['a fox', '--workflow', 'no/such/flow.json'], config);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('Cannot read the workflow no/such/flow.json: there is no such file.\n');
  });
});
