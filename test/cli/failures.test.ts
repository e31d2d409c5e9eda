import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createLogger } from '../../src/logger.js';
import { describeFailure } from '../../src/cli/generate/failure.js';
import { ComfyValidationError } from '../../src/comfy/index.js';
import { PromptRejectedSchema } from '../../src/comfy/schemas.js';
import { recording } from '../comfy/fixtures/recordings.js';
import { cliConfig, linesOf, runCli, TempDirs, TextSink, writePng } from './helpers.js';

let emulator: Emulator;
let config: Config;
let out: string;
const temp = new TempDirs();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, stepMs: 1 });
  config = cliConfig({ COMFY_URLS: emulator.url });
  out = await temp.make('comfycord-cli-out-');
});

afterEach(() => {
  emulator.faults.clearFailures();
});

afterAll(async () => {
  await emulator?.close();
  await temp.removeAll();
});

/** Runs the CLI, expects exit code 1 and exactly one line on stderr; returns that line. */
async function failure(argv: string[], runConfig = config): Promise<string> {
  const result = await runCli([...argv, '--out', out], runConfig);
  expect(result.code).toBe(1);
  const lines = linesOf(result.stderr);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('npm run generate when something fails', () => {
  it('says no server answered when the only one refuses connections', async () => {
    // An emulator closed again leaves a port on 127.0.0.1 where connections are refused.
    const down = await startEmulator({ port: 0 });
    await down.close();
    const message = await failure(['a fox'], cliConfig({ COMFY_URLS: down.url }));
    expect(message).toContain(`No ComfyUI server answered: server comfy1 at ${down.url} could not be reached (`);
    expect(message).toMatch(/ECONNREFUSED.*\)\.$/);
  });

  it('names the node, its type and ComfyUI’s message when a node fails while running', async () => {
    emulator.faults.failNode(
      { classType: 'KSampler' },
      'CUDA out of memory.\nTried to allocate 2 GiB',
      'OutOfMemoryError',
    );
    expect(await failure(['a fox', '--steps', '2'])).toBe(
      'Node 3 (KSampler) failed on server comfy1: OutOfMemoryError: CUDA out of memory.',
    );
  });

  it('checks --set values against the server before submitting, naming each that it would refuse', async () => {
    const before = emulator.received.length;
    const message = await failure(['a fox', '--set', '5.width=999999', '--set', 'KSampler.sampler_name=bogus']);
    expect(message).toMatch(
      /^No server can run txt2img: server comfy1: node 3 \(KSampler\) input sampler_name is "bogus"/,
    );
    expect(message).toMatch(/node 5 "Empty Latent Image" \(EmptyLatentImage\) input width is 999999, outside/);
    expect(emulator.received.length).toBe(before);
  });

  it('summarises the node errors when a server rejects the graph anyway', () => {
    const { body } = recording<Record<string, { body: unknown }>>('invalid_prompts')['value_bigger_than_max']!;
    const parsed = PromptRejectedSchema.parse(body);
    const error = new ComfyValidationError(
      'comfy1',
      400,
      parsed.error?.type ?? '',
      parsed.error?.message ?? '',
      parsed.node_errors,
    );
    expect(describeFailure(error)).toBe(
      'Server comfy1 rejected the workflow (prompt_outputs_failed_validation): node 1 (EmptyImage): Value 999999 bigger than max of 16384: width.',
    );
  });

  it('refuses before submitting when the workflow needs a model the server lacks', async () => {
    const lacking = await startEmulator({ port: 0, stepMs: 1, checkpoints: ['v1-5-pruned-emaonly.safetensors'] });
    try {
      const before = lacking.received.length;
      expect(await failure(['a fox', '--wf', 'sdxl'], cliConfig({ COMFY_URLS: `gpu-2=${lacking.url}` }))).toBe(
        'No server can run sdxl: server gpu-2 lacks checkpoint sd_xl_base_1.0.safetensors (node 4).',
      );
      expect(lacking.received.length).toBe(before);
    } finally {
      await lacking.close();
    }
  });

  it('refuses a --set naming a node the bound graph does not have, before submitting', async () => {
    const before = emulator.received.length;
    expect(await failure(['a fox', '--set', 'Upscaler.scale_by=2'])).toMatch(
      /^--set Upscaler\.scale_by=2: the workflow has no node with the id or title "Upscaler"; it has 3 \(KSampler\), /,
    );
    expect(await failure(['a fox', '--set', '3.bogus=1'])).toMatch(
      /^--set 3\.bogus=1: node 3 \(KSampler\) has no input "bogus"/,
    );
    expect(emulator.received.length).toBe(before);
  });

  it('refuses settings the workflow cannot take, with the bot’s own sentences', async () => {
    expect(await failure(['a lantern', '--wf', 'animated', '--n', '2'])).toBe(
      'animated makes one image at a time, so count must be 1; use --wf sdxl.',
    );
    expect(await failure(['a fox', '--wf', 'nope'])).toBe(
      'There is no workflow called nope; choose one of: animated, img2img, sdxl, txt2img, upscale, upscale-basic.',
    );
    expect(await failure(['--wf', 'txt2img'])).toBe('txt2img needs a prompt.');
    expect(await failure(['--wf', 'upscale'])).toBe('upscale needs an input image; give one with --image <path>.');
  });

  it('refuses a text-to-image workflow given an image, pointing at one that takes it', async () => {
    const png = await writePng(await temp.make());
    expect(await failure(['a fox', '--wf', 'txt2img', '--image', png])).toBe(
      'txt2img does not take an input image; use --wf img2img.',
    );
  });

  it('refuses an --image that is missing or not an image', async () => {
    const dir = await temp.make();
    expect(await failure(['a fox', '--image', path.join(dir, 'none.png')])).toBe(
      `Cannot read the image ${path.join(dir, 'none.png')}: there is no such file.`,
    );
    await writeFile(path.join(dir, 'notes.png'), 'not a picture');
    expect(await failure(['a fox', '--image', path.join(dir, 'notes.png')])).toBe(
      `${path.join(dir, 'notes.png')} is not an image (PNG, JPEG, WebP, …).`,
    );
  });

  it('refuses a --server that COMFY_URLS does not name', async () => {
    expect(await failure(['a fox', '--server', 'gpu9'], cliConfig({ COMFY_URLS: `gpu1=${emulator.url}` }))).toBe(
      'There is no server called gpu9 in COMFY_URLS; it names gpu1.',
    );
  });

  it('names the workflows folder when it cannot be read', async () => {
    const missing = path.join(await temp.make(), 'nowhere');
    expect(await failure(['a fox'], cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: missing }))).toBe(
      `Cannot read the workflows folder ${missing} (WORKFLOWS_DIR): there is no such folder.`,
    );
  });

  it('says why a named workflow is disabled', async () => {
    const dir = await temp.make();
    await writeFile(path.join(dir, 'broken.json'), '{ not json');
    const message = await failure(['--wf', 'broken'], cliConfig({ COMFY_URLS: emulator.url, WORKFLOWS_DIR: dir }));
    expect(message).toMatch(/^The workflow broken is disabled: broken\.json /);
  });

  it('writes nothing to the output folder when a run fails', async () => {
    expect(await readdir(out)).toEqual([]);
  });

  it('logs the full detail of a failure (the traceback) for --verbose, beside the one sentence', async () => {
    emulator.faults.failNode({ classType: 'VAEDecode' }, 'decoder exploded');
    const log = new TextSink();
    const logger = createLogger({ level: 'debug', format: 'json', destination: log });
    const result = await runCli(['a fox', '--steps', '2', '--verbose', '--out', out], config, { logger });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('Node 8 (VAEDecode) failed on server comfy1: Exception: decoder exploded.\n');
    const entry = linesOf(log.text)
      .map((line) => JSON.parse(line) as { msg: string; err?: { message: string } })
      .find((line) => line.msg === 'npm run generate failed');
    expect(entry?.err?.message).toMatch(/node 8 \(VAEDecode\) raised Exception: decoder exploded/);
  });

  it('cancels the job on its server on Ctrl+C and exits with 130', async () => {
    emulator.faults.stepMs = 100;
    try {
      const cancel = new AbortController();
      const before = emulator.received.length;
      const running = runCli(['a slow fox', '--steps', '60', '--out', out], config, { signal: cancel.signal });
      await expect.poll(() => emulator.received.length, { timeout: 20_000 }).toBe(before + 1);
      cancel.abort();
      const result = await running;
      expect(result.code).toBe(130);
      expect(result.stderr).toBe('Cancelled; the job was removed from the server.\n');
      expect(await readdir(out)).toEqual([]);
    } finally {
      emulator.faults.stepMs = 1;
    }
  });
});
