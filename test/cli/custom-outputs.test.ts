import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { seedVideoGraph } from '../fixtures/video-workflow.js';
import { cliConfig, emulatorOutput, filesIn, linesOf, runCli, TempDirs } from './helpers.js';

let emulator: Emulator;
const temp = new TempDirs();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, stepMs: 1 });
});

afterAll(async () => {
  await emulator?.close();
  await temp.removeAll();
});

/** The seed workflow ending in VideoHelperSuite's Video Combine, a text node and a preview node. */
async function videoWorkflowDir(manifest?: object): Promise<string> {
  const graph = await seedVideoGraph('fox');
  graph['14'] = { class_type: 'PreviewImage', inputs: { images: ['8', 0] } };
  const dir = await temp.make('comfycord-cli-vhs-');
  await writeFile(path.join(dir, 'clip.json'), JSON.stringify(graph));
  if (manifest) await writeFile(path.join(dir, 'clip.manifest.json'), JSON.stringify(manifest));
  return dir;
}

describe('workflows ending in custom output nodes, through npm run generate', () => {
  it("writes VideoHelperSuite's GIF and prints the text node's text, never the server's paths", async () => {
    const dir = await videoWorkflowDir();
    const out = await temp.make('comfycord-cli-out-');
    const config = cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: dir });
    const result = await runCli(['a running fox', '--n', '3', '--steps', '2', '--out', out], config);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const files = await filesIn(out);
    expect(files.map((file) => path.basename(file))).toEqual([expect.stringMatching(/^fox_\d{5}\.gif$/)]);
    const gif = await readFile(files[0]!);
    expect(gif.equals(await emulatorOutput(emulator.dataDir, path.basename(files[0]!)))).toBe(true);
    expect((await sharp(gif).metadata()).format).toBe('gif');
    expect(linesOf(result.stdout)).toContain('Text from node 13 "Show latent" (PreviewAny): <latent object>');
    expect(linesOf(result.stdout)).toContain('node 13 "Show latent" (PreviewAny) produced 1 text.');
    expect(result.stdout).not.toContain(emulator.dataDir);
  });

  it('lists the custom output nodes --check found, with what each produces', async () => {
    const dir = await videoWorkflowDir();
    const result = await runCli(['--check'], cliConfig({ COMFY_URLS: `gpu-1=${emulator.url}`, WORKFLOWS_DIR: dir }));
    expect(result.code).toBe(0);
    const lines = linesOf(result.stdout);
    expect(lines).toContain('  output: node 12 "Video Combine 🎥🅥🅗🅢" (VHS_VideoCombine): animated images');
    expect(lines).toContain('  output: node 13 "Show latent" (PreviewAny): text');
    expect(lines).toContainEqual(expect.stringContaining('node 14 (PreviewImage) only previews and is not posted'));
  });

  it('posts only what a manifest names, a preview node included', async () => {
    const dir = await videoWorkflowDir({ outputs: ['14'] });
    const out = await temp.make('comfycord-cli-out-');
    const config = cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: dir });
    const result = await runCli(['a fox', '--steps', '2', '--out', out], config);
    expect(result.code).toBe(0);
    expect((await filesIn(out)).map((file) => path.extname(file))).toEqual(['.png']);
    expect(result.stdout).not.toContain('Text from');
  });
});
