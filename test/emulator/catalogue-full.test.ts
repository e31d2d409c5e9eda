import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { RECORDED_OBJECT_INFO } from '../../src/emulator/nodes/catalogue.js';
import { dumpPyJson, parseJsonTree } from '../../src/emulator/nodes/py-json-tree.js';
import { listedFileInputs } from '../../src/emulator/nodes/server-files.js';
import { historyEntry, postJson, queuePrompt } from './http.js';
import { recording, type RecordedEvent } from './shape.js';
import { connectClient, isPromptDone, isText, textData } from './ws-client.js';

const recordedText = readFileSync(RECORDED_OBJECT_INFO, 'utf8');
const recorded = JSON.parse(recordedText) as Record<string, unknown>;
const customText = (name: string) =>
  dumpPyJson(
    parseJsonTree(readFileSync(new URL(`../../src/emulator/nodes/custom-info/${name}.json`, import.meta.url), 'utf8')),
  );
const testSleepText = customText('TestSleep');
const videoCombineText = customText('VHS_VideoCombine');
const CLIENT = 'catalogue-full-client';

/** A graph with a node type the full catalogue lists but the emulator cannot run (ImageBlur, a V3 node). */
function blurGraph(blurRadius = 3): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
    '2': { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: blurRadius, sigma: 1.0 } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'blurred' } },
  };
}

/** The option list of a combo input, V1 or V3. */
function comboAt(
  entry: unknown,
  input: string,
): { holder: unknown[]; index: 0 } | { holder: object; index: 'options' } {
  const inputs = (entry as { input: Record<string, Record<string, unknown[]>> }).input;
  const spec = (inputs['required']?.[input] ?? inputs['optional']?.[input]) as unknown[];
  return Array.isArray(spec[0]) ? { holder: spec, index: 0 } : { holder: spec[1] as object, index: 'options' };
}

describe('the full catalogue (--catalogue full)', () => {
  let full: Emulator;
  let asRecorded: Emulator;
  let dataDir: string;

  beforeAll(async () => {
    full = await startEmulator({ port: 0, stepMs: 0, catalogue: 'full' });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'emulator-full-as-recorded-'));
    asRecorded = await startEmulator({
      port: 0,
      stepMs: 0,
      catalogue: 'full',
      dataDir,
      checkpoints: ['random_sd15_slim.safetensors'],
      loras: [],
      upscaleModels: [],
    });
    writeFileSync(
      path.join(dataDir, 'input', 'example.png'),
      readFileSync(new URL('../fixtures/recorded/downloaded.png', import.meta.url)),
    );
  });

  afterAll(async () => {
    await Promise.all([full?.close(), asRecorded?.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the recorded body byte for byte, then its custom nodes, when it holds the recorded server’s files', async () => {
    const response = await fetch(`${asRecorded.url}/object_info`);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.text()).toBe(
      `${recordedText.slice(0, -1)}, "TestSleep": ${testSleepText}, "VHS_VideoCombine": ${videoCombineText}}`,
    );
  });

  it('differs from the recording only in the combos listing its own files, which list exactly its files', async () => {
    const served = (await (await fetch(`${full.url}/object_info`)).json()) as Record<string, unknown>;
    expect(Object.keys(served)).toEqual([...Object.keys(recorded), 'TestSleep', 'VHS_VideoCombine']);
    const ownFiles: Record<string, unknown> = {
      checkpoints: ['v1-5-pruned-emaonly.ckpt', 'v1-5-pruned-emaonly.safetensors', 'sd_xl_base_1.0.safetensors'],
      lora_name: ['detail.safetensors'],
      model_name: ['RealESRGAN_x4plus.pth'],
      image: [],
    };
    const expected = structuredClone(recorded);
    for (const [name, input] of listedFileInputs()) {
      const files = ownFiles[input === 'ckpt_name' ? 'checkpoints' : input];
      const live = comboAt(served[name], input);
      expect((live.holder as Record<string | number, unknown>)[live.index], `${name}.${input}`).toEqual(files);
      const want = comboAt(expected[name], input);
      (want.holder as Record<string | number, unknown>)[want.index] = files;
    }
    delete served['TestSleep'];
    delete served['VHS_VideoCombine'];
    expect(served).toEqual(expected);
  });

  it('validates a node type it cannot run against its recorded limits', async () => {
    const answer = await postJson<{ node_errors: Record<string, { errors: unknown[] }> }>(full.url, '/prompt', {
      prompt: blurGraph(40),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.node_errors['2']?.errors).toEqual([
      {
        type: 'value_bigger_than_max',
        message: 'Value 40 bigger than max of 31',
        details: 'blur_radius',
        extra_info: {
          input_name: 'blur_radius',
          input_config: ['INT', { default: 1, min: 1, max: 31, step: 1 }],
          received_value: 40,
        },
      },
    ]);
  });

  it('fails a node type it cannot run as ComfyUI fails a node that raises: execution_error and an error entry', async () => {
    const client = await connectClient(full.url, CLIENT);
    try {
      await client.waitFor(isText('status'));
      const from = client.events.length;
      const answer = await queuePrompt(full.url, { client_id: CLIENT, prompt: blurGraph() });
      expect(answer.node_errors).toEqual({});
      await client.waitFor(isPromptDone(answer.prompt_id), from);
      // The same messages as the recorded failing node, with the same keys in execution_error.
      const recorded = recording<{ events: RecordedEvent[] }>('execution_error');
      const typesOf = (events: ReadonlyArray<{ type?: string; kind?: string }>) =>
        events.map((event) => event.type).filter((type) => type !== 'progress_state');
      expect(typesOf(client.events.slice(from))).toEqual(typesOf(recorded.events));
      const error = textData(client.events.slice(from).find(isText('execution_error')));
      const recordedError = recorded.events.find((event) => event.type === 'execution_error')?.data as object;
      expect(Object.keys(error).sort()).toEqual(Object.keys(recordedError).sort());
      expect(error).toMatchObject({
        node_id: '2',
        node_type: 'ImageBlur',
        executed: ['1'],
        exception_type: 'NotImplementedError',
        exception_message: 'The ComfyUI emulator lists ImageBlur (--catalogue full) but cannot execute it.\n',
      });
      const entry = await historyEntry<{ status: { status_str: string; completed: boolean } }>(
        full.url,
        answer.prompt_id,
      );
      expect(entry.status).toMatchObject({ status_str: 'error', completed: false });
    } finally {
      await client.close();
    }
  });

  it('is not the default: the default catalogue refuses the same graph as a server without the node would', async () => {
    const emulator = await startEmulator({ port: 0, stepMs: 0 });
    try {
      const answer = await postJson<{ error: unknown }>(emulator.url, '/prompt', { prompt: blurGraph() });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toEqual({
        type: 'invalid_prompt',
        message: 'Cannot execute because node ImageBlur does not exist.',
        details: "Node ID '#2'",
        extra_info: {},
      });
    } finally {
      await emulator.close();
    }
  });
});

describe('npm run comfy:emulator -- --catalogue', () => {
  const root = path.resolve(import.meta.dirname, '../..');

  /** Starts the emulator's command line; resolves with its URL once it is ready, or with its exit code. */
  function startCli(args: string[]): Promise<{ url?: string; code?: number | null; stop: () => void; stderr: string }> {
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), [path.join(root, 'src/emulator/main.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const stop = () => child.kill('SIGTERM');
    return new Promise((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const ready = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*ready/.exec(stdout);
        if (ready) resolve({ url: ready[1], stop, stderr });
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stop, stderr }));
    });
  }

  it('lists all 478 recorded node types and the custom ones (TestSleep, VHS_VideoCombine) with --catalogue full', async () => {
    const cli = await startCli(['--port', '0', '--catalogue', 'full']);
    try {
      expect(cli.url, cli.stderr).toBeDefined();
      const body = (await (await fetch(`${cli.url}/object_info`)).json()) as Record<string, unknown>;
      expect(Object.keys(body)).toHaveLength(480);
    } finally {
      cli.stop();
    }
  });

  it('refuses an unknown catalogue with a sentence and exit code 2', async () => {
    const cli = await startCli(['--port', '0', '--catalogue', 'everything']);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim()).toBe('--catalogue must be "implemented" or "full", got "everything"');
  });
});
