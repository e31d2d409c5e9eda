import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { emulatorOutput, filesIn, linesOf, SHIPPED_DIR, TempDirs } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const ENTRY = path.join(ROOT, 'src/cli/generate.ts');

let emulator: Emulator;
let cwd: string;
const temp = new TempDirs();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, stepMs: 1 });
  // An empty working directory: no .env of the developer's can leak into the run.
  cwd = await temp.make('comfycord-cli-cwd-');
});

afterAll(async () => {
  await emulator?.close();
  await temp.removeAll();
});

/** Runs `tsx src/cli/generate.ts` as `npm run generate` does; resolves when the process exits by itself. */
function runProcess(argv: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(TSX, [ENTRY, ...argv], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: cwd, WORKFLOWS_DIR: SHIPPED_DIR, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the npm run generate entry point', () => {
  it('generates with no Discord token and exits 0, 2 on a bad command line, 1 when no server answers', async () => {
    const ok = await runProcess(
      ['a red fox in the snow', '--ar', '3:2', '--seed', '42', '--steps', '3', '--out', 'out/'],
      {
        COMFY_URLS: emulator.url,
      },
    );
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const [file] = await filesIn(path.join(cwd, 'out'));
    expect(linesOf(ok.stdout)).toContain(`Wrote ${path.join('out', path.basename(file!))}`);
    expect((await readFile(file!)).equals(await emulatorOutput(emulator.dataDir, path.basename(file!)))).toBe(true);

    const usage = await runProcess(['a fox', '--bogus'], { COMFY_URLS: emulator.url });
    expect(usage.code).toBe(2);
    expect(linesOf(usage.stderr)).toEqual([expect.stringMatching(/^--bogus is not an option I know; /)]);

    const gone = await startEmulator({ port: 0 });
    await gone.close();
    const down = await runProcess(['a fox'], { COMFY_URLS: gone.url, LOG_LEVEL: 'info' });
    expect(down.code).toBe(1);
    expect(linesOf(down.stderr)).toEqual([
      expect.stringContaining(`No ComfyUI server answered: server comfy1 at ${gone.url} could not be reached (`),
    ]);
    // Three processes start here, one after the other: on a loaded machine each start alone may take 10 s or more.
  }, 90_000);
});
