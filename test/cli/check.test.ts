import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cliConfig, linesOf, runCli, TempDirs } from './helpers.js';

// "gpu-2" lacks the SDXL checkpoint and the upscale model; "gpu-1" has everything.
let full: Emulator;
let lacking: Emulator;
const temp = new TempDirs();

beforeAll(async () => {
  [full, lacking] = await Promise.all([
    startEmulator({ port: 0, stepMs: 1 }),
    startEmulator({
      port: 0,
      stepMs: 1,
      checkpoints: ['v1-5-pruned-emaonly.safetensors', 'v1-5-pruned-emaonly.ckpt'],
      upscaleModels: [],
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([full?.close(), lacking?.close()]);
  await temp.removeAll();
});

/** The lines under one workflow's heading in the report, up to the next heading. */
function wholeSection(stdout: string, workflow: string): string[] {
  const lines = linesOf(stdout);
  const start = lines.indexOf(`${workflow}:`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, index) => index > start && !line.startsWith(' '));
  return lines.slice(start + 1, end);
}

/** The servers' verdicts on one workflow: its section after what was read in it. */
function section(stdout: string, workflow: string): string[] {
  const lines = wholeSection(stdout, workflow);
  return lines.slice(lines.findIndex((line) => /^ {2}(gpu-\d|gone): /.test(line)));
}

describe('npm run generate -- --check', () => {
  it('reports every workflow on every server and succeeds when each can run somewhere', async () => {
    const config = cliConfig({ COMFY_URLS: `gpu-1=${full.url},gpu-2=${lacking.url}` });
    const result = await runCli(['--check'], config);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = linesOf(result.stdout);
    expect(lines[0]).toMatch(/^Workflows in .*workflows:$/);
    expect(lines).toContain('  txt2img (txt2img.json): ready');
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^  gpu-2 \\(${lacking.url}\\): answered, \\d+ node types$`)),
    );
    expect(section(result.stdout, 'sdxl')).toEqual([
      '  gpu-1: ok',
      '  gpu-2: sdxl: server gpu-2 lacks checkpoint sd_xl_base_1.0.safetensors (node 4).',
    ]);
    expect(section(result.stdout, 'upscale')).toEqual([
      '  gpu-1: ok',
      '  gpu-2: upscale: server gpu-2 lacks upscale model RealESRGAN_x4plus.pth (node 2).',
      '    runs as its fallback upscale-basic there',
    ]);
    expect(section(result.stdout, 'txt2img')).toEqual(['  gpu-1: ok', '  gpu-2: ok']);
    expect(lines.at(-1)).toBe('All 6 workflows can run on at least one server.');
  });

  it('prints, per workflow, where each setting goes, its default and range, and what it outputs', async () => {
    const result = await runCli(['--check'], cliConfig({ COMFY_URLS: `gpu-1=${full.url}` }));
    const txt2img = wholeSection(result.stdout, 'txt2img');
    expect(txt2img[0]).toBe('  text-to-image, settings from its manifest, the rest inferred:');
    expect(txt2img).toContain('    prompt → 6.text (CLIPTextEncode): required');
    expect(txt2img).toContain('    steps → 3.steps (KSampler): default 25, 1–60');
    expect(txt2img).toContain('    seed → 3.seed (KSampler): random unless set');
    expect(txt2img).toContain('  output: node 9 "Save Image" (SaveImage): images');
    expect(wholeSection(result.stdout, 'animated')).toContain(
      '  output: node 9 "Save Animation" (SaveAnimatedWEBP): animated images',
    );
  });

  it('fails, naming the workflow, when one can run on no server', async () => {
    const result = await runCli(['--check'], cliConfig({ COMFY_URLS: `gpu-2=${lacking.url}` }));
    expect(result.code).toBe(1);
    expect(section(result.stdout, 'sdxl')).toEqual([
      '  gpu-2: sdxl: server gpu-2 lacks checkpoint sd_xl_base_1.0.safetensors (node 4).',
    ]);
    expect(linesOf(result.stdout).at(-1)).toBe('1 of 6 workflows cannot run on any server: sdxl.');
  });

  it('checks only the server --server names', async () => {
    const config = cliConfig({ COMFY_URLS: `gpu-1=${full.url},gpu-2=${lacking.url}` });
    const result = await runCli(['--check', '--server', 'gpu-1'], config);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('gpu-2');
  });

  it('reports a server that does not answer, and fails when no server answers', async () => {
    const down = await startEmulator({ port: 0 });
    await down.close();
    const result = await runCli(['--check'], cliConfig({ COMFY_URLS: `gone=${down.url}` }));
    expect(result.code).toBe(1);
    const lines = linesOf(result.stdout);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^  gone \\(${down.url}\\): could not be reached \\(.*ECONNREFUSED`)),
    );
    expect(section(result.stdout, 'txt2img')).toEqual(['  gone: not checked (the server did not answer)']);
    expect(lines.at(-1)).toBe('None of the 6 workflows can run on any server.');
  });

  it('lists a disabled workflow with its reasons and fails because of it', async () => {
    const dir = await temp.make();
    await writeFile(path.join(dir, 'broken.json'), '{ not json');
    await writeFile(path.join(dir, 'orphan.manifest.json'), '{}');
    const result = await runCli(['--check'], cliConfig({ COMFY_URLS: full.url, WORKFLOWS_DIR: dir }));
    expect(result.code).toBe(1);
    const lines = linesOf(result.stdout);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}broken \(broken\.json\): disabled: broken\.json /));
    expect(lines).toContainEqual(
      '  orphan (orphan.manifest.json): disabled: orphan.manifest.json has no workflow beside it; expected orphan.json (an API-format export).',
    );
    expect(lines.at(-1)).toBe('None of the 2 workflows can run on any server.');
  });

  it('fails on a folder with no workflow at all', async () => {
    const dir = await temp.make();
    const result = await runCli(['--check'], cliConfig({ COMFY_URLS: full.url, WORKFLOWS_DIR: dir }));
    expect(result.code).toBe(1);
    expect(linesOf(result.stdout).at(-1)).toBe(`There is no workflow in ${dir}; put ComfyUI API-format exports there.`);
  });
});
