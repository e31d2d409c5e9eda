import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHECKPOINTS, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cliConfig, runCli, TempDirs } from './helpers.js';

// A ComfyUI server on Windows lists the files in its model folders with backslashes.
let windows: Emulator;
const temp = new TempDirs();

beforeAll(async () => {
  windows = await startEmulator({
    port: 0,
    stepMs: 1,
    checkpoints: [...DEFAULT_CHECKPOINTS, 'SDXL\\juggernautXL_v9.safetensors'],
  });
});

afterAll(async () => {
  await windows?.close();
  await temp.removeAll();
});

describe('npm run generate against a server on Windows', () => {
  it('sends a file named by --set with a forward slash in the spelling the server lists', async () => {
    const out = await temp.make('comfycord-cli-out-');
    const result = await runCli(
      ['a fox', '--set', '4.ckpt_name=SDXL/juggernautXL_v9.safetensors', '--out', out],
      cliConfig({ COMFY_URLS: windows.url }),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(windows.received.at(-1)?.prompt['4']).toMatchObject({
      inputs: { ckpt_name: 'SDXL\\juggernautXL_v9.safetensors' },
    });
  });
});
