import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../scripts/demo.js';

const outputDir = await mkdtemp(path.join(tmpdir(), 'comfycord-demo-test-'));

afterAll(async () => {
  await rm(outputDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('plays one /imagine against the emulator and the fake Discord and saves the picture', async () => {
    const lines: string[] = [];
    const result = await runDemo({
      outputDir,
      prompt: 'a lighthouse at night --ar 16:9 --steps 30',
      print: (line) => lines.push(line),
    });
    expect(result.comfy).toBe('emulator');
    expect(result.cardStates.some((state) => state.startsWith('Running'))).toBe(true);
    expect(result.cardStates.at(-1)).toMatch(/^Done in/);
    expect(result.files).toHaveLength(1);
    const metadata = await sharp(await readFile(result.files[0]!)).metadata();
    expect(metadata.format).toBe('png');
    expect(metadata.width! / metadata.height!).toBeCloseTo(16 / 9, 1);
    expect(lines.at(-1)).toBe(`Saved ${result.files[0]}`);
  });

  it('falls back to the emulator when no ComfyUI answers at COMFY_URLS', async () => {
    const result = await runDemo({
      outputDir,
      comfyUrl: 'http://127.0.0.1:9',
      prompt: 'a cat --steps 2',
      print: () => {},
    });
    expect(result.comfy).toBe('emulator');
  });
});
