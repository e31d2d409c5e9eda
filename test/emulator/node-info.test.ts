import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { IMPLEMENTATIONS, RECORDED_OBJECT_INFO } from '../../src/emulator/nodes/catalogue.js';
import { dumpPyJson, parseJsonTree, type JsonTree } from '../../src/emulator/nodes/py-json-tree.js';
import { listedFileInputs } from '../../src/emulator/nodes/server-files.js';
import { postJson } from './http.js';

/** The custom nodes the emulator implements, listed after the recorded ones, each with its own info file. */
const CUSTOM_NODES = ['TestSleep', 'VHS_VideoCombine'];

/** sha256 of the `/object_info` body recorded from a stock ComfyUI 0.3.64 (shared `comfyui/recorded/`). */
const RECORDING_SHA256 = 'bc3a0800b00b657d87db9a58d26e32e8effffb83cb84f75d20a1cb65b2fd8215';
const recordedText = readFileSync(RECORDED_OBJECT_INFO, 'utf8');
const recorded = JSON.parse(recordedText) as Record<string, NodeEntry>;
const recordedTree = parseJsonTree(recordedText);

/** The recorded server's own files: one checkpoint, no LoRA, no upscale model, `example.png` in input/. */
const RECORDED_FILES = { checkpoints: ['random_sd15_slim.safetensors'], loras: [], upscaleModels: [] };

type NodeEntry = { input: Record<string, Record<string, unknown[]> | undefined> } & Record<string, unknown>;

/** The recorded entry of one node, as a tree that keeps how each number was written. */
function recordedEntry(name: string): JsonTree | undefined {
  return recordedTree.kind === 'object' ? recordedTree.entries.find(([key]) => key === name)?.[1] : undefined;
}

async function text(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return response.text();
}

/** The option list of a combo input, V1 (`[[...], {}]`) or V3 (`["COMBO", {"options": [...]}]`). */
function comboOf(entry: NodeEntry, input: string): unknown {
  const spec = entry.input['required']?.[input] ?? entry.input['optional']?.[input];
  if (!Array.isArray(spec)) return undefined;
  return Array.isArray(spec[0]) ? spec[0] : (spec[1] as { options?: unknown } | undefined)?.options;
}

/** A copy of an entry with one combo's options replaced. */
function withCombo(entry: NodeEntry, input: string, options: unknown): NodeEntry {
  const copy = structuredClone(entry);
  const section = copy.input['required']?.[input] ? copy.input['required'] : copy.input['optional'];
  const spec = section?.[input] as unknown[];
  if (Array.isArray(spec[0])) spec[0] = options;
  else (spec[1] as { options: unknown }).options = options;
  return copy;
}

const IMPLEMENTED = IMPLEMENTATIONS.map((node) => node.name);
const RECORDED_IMPLEMENTED = IMPLEMENTED.filter((name) => name in recorded);

describe('the recording shipped with the emulator', () => {
  it('is the unmodified /object_info body of ComfyUI 0.3.64, with all 478 node types', () => {
    expect(createHash('sha256').update(readFileSync(RECORDED_OBJECT_INFO)).digest('hex')).toBe(RECORDING_SHA256);
    expect(Object.keys(recorded)).toHaveLength(478);
  });

  it('is written back byte for byte by the tree the emulator reads it into', () => {
    expect(dumpPyJson(recordedTree)).toBe(recordedText);
  });

  it('holds every node type the emulator implements, except the custom nodes that name their own info', () => {
    expect(IMPLEMENTED.filter((name) => !(name in recorded))).toEqual(CUSTOM_NODES);
    for (const name of CUSTOM_NODES) {
      expect(IMPLEMENTATIONS.find((node) => node.name === name)?.info, name).toBeInstanceOf(URL);
    }
  });

  it('lists the server’s own files exactly in the combos the emulator fills with its own', () => {
    // Every combo that names the recorded server's checkpoint or input image is one the emulator substitutes.
    const naming = Object.entries(recorded).flatMap(([name, entry]) =>
      Object.values(entry.input)
        .flatMap((section) => Object.keys(section ?? {}).map((input) => [name, input] as const))
        .filter(([, input]) => {
          const combo = comboOf(entry, input);
          return (
            Array.isArray(combo) &&
            combo.some((option) => ['random_sd15_slim.safetensors', 'example.png'].includes(option as string))
          );
        }),
    );
    const substituted = listedFileInputs().map(([name, input]) => `${name}.${input}`);
    expect(substituted).toEqual(expect.arrayContaining(naming.map(([name, input]) => `${name}.${input}`)));
    // The others list folders that were empty on the recorded server (LoRAs, upscale models).
    for (const [name, input] of listedFileInputs()) {
      const combo = comboOf(recorded[name]!, input) as unknown[];
      if (!naming.some(([n, i]) => n === name && i === input)) expect(combo, `${name}.${input}`).toEqual([]);
    }
  });
});

describe('node info served by the emulator (default catalogue)', () => {
  let emulator: Emulator;
  let asRecorded: Emulator;
  let dataDir: string;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, stepMs: 0 });
    // An emulator holding the recorded server's files: its node info must then be the recording, byte for byte.
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'emulator-as-recorded-'));
    asRecorded = await startEmulator({ port: 0, stepMs: 0, dataDir, ...RECORDED_FILES });
    writeFileSync(
      path.join(dataDir, 'input', 'example.png'),
      readFileSync(new URL('../fixtures/recorded/downloaded.png', import.meta.url)),
    );
  });

  afterAll(async () => {
    await Promise.all([emulator?.close(), asRecorded?.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists exactly the implemented node types, in the recorded order, then the custom ones', async () => {
    const body = JSON.parse(await text(`${emulator.url}/object_info`)) as Record<string, unknown>;
    const recordedOrder = Object.keys(recorded).filter((name) => IMPLEMENTED.includes(name));
    expect(Object.keys(body)).toEqual([...recordedOrder, ...CUSTOM_NODES]);
  });

  it('serves each implemented node type’s recorded entry byte for byte when it has the recorded server’s files', async () => {
    for (const name of RECORDED_IMPLEMENTED) {
      const served = parseJsonTree(await text(`${asRecorded.url}/object_info/${name}`));
      expect(served, name).toEqual({ kind: 'object', entries: [[name, recordedEntry(name)]] });
    }
    const whole = parseJsonTree(await text(`${asRecorded.url}/object_info`));
    for (const [name, entry] of whole.kind === 'object' ? whole.entries : []) {
      if (!CUSTOM_NODES.includes(name)) expect(entry, name).toEqual(recordedEntry(name));
    }
  });

  it('serves the recorded entries with its own files in exactly the combos where a server lists its files', async () => {
    const environmentLists: Record<string, unknown> = {
      'CheckpointLoaderSimple.ckpt_name': [
        'v1-5-pruned-emaonly.ckpt',
        'v1-5-pruned-emaonly.safetensors',
        'sd_xl_base_1.0.safetensors',
      ],
      'LoraLoader.lora_name': ['detail.safetensors'],
      'LoraLoaderModelOnly.lora_name': ['detail.safetensors'],
      'UpscaleModelLoader.model_name': ['RealESRGAN_x4plus.pth'],
      'LoadImage.image': [],
    };
    for (const name of RECORDED_IMPLEMENTED) {
      const served = (JSON.parse(await text(`${emulator.url}/object_info/${name}`)) as Record<string, NodeEntry>)[
        name
      ]!;
      let expected = recorded[name]!;
      for (const [node, input] of listedFileInputs().filter(([node]) => node === name)) {
        expect(comboOf(served, input), `${node}.${input}`).toEqual(environmentLists[`${node}.${input}`]);
        expected = withCombo(expected, input, environmentLists[`${node}.${input}`]);
      }
      expect(served, name).toEqual(expected);
    }
  });

  it('serves the custom TestSleep from its own info file, written as ComfyUI writes node info', async () => {
    const file = new URL('../../src/emulator/nodes/custom-info/TestSleep.json', import.meta.url);
    const expected = dumpPyJson(parseJsonTree(readFileSync(file, 'utf8')));
    expect(await text(`${emulator.url}/object_info/TestSleep`)).toBe(`{"TestSleep": ${expected}}`);
    expect(expected).toContain('"default": 1.0, "min": 0.0, "max": 9999.0');
  });

  it("serves VideoHelperSuite's Video Combine from its own info file, as the pack defines it", async () => {
    const file = new URL('../../src/emulator/nodes/custom-info/VHS_VideoCombine.json', import.meta.url);
    const expected = dumpPyJson(parseJsonTree(readFileSync(file, 'utf8')));
    expect(await text(`${emulator.url}/object_info/VHS_VideoCombine`)).toBe(`{"VHS_VideoCombine": ${expected}}`);
    expect(expected).toContain('"output": ["VHS_FILENAMES"], "output_is_list": [false], "output_name": ["Filenames"]');
  });

  it('answers {} for a node type it does not list', async () => {
    expect(await text(`${emulator.url}/object_info/VAELoader`)).toBe('{}');
  });
});

describe('validation reads its limits from the served node info', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, stepMs: 0, upscaleModels: ['4x-UltraSharp.pth'] });
  });

  afterAll(async () => {
    await emulator?.close();
  });

  async function errorsOf(prompt: Record<string, unknown>): Promise<Record<string, { errors: unknown[] }>> {
    const answer = await postJson<{ node_errors: Record<string, { errors: unknown[] }> }>(emulator.url, '/prompt', {
      prompt,
    });
    return answer.body.node_errors;
  }

  it('refuses a value above the recorded max and echoes the served input config', async () => {
    const errors = await errorsOf({
      '1': { class_type: 'EmptyImage', inputs: { width: 16385, height: 8, batch_size: 1, color: 0 } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    });
    expect(errors['1']?.errors).toEqual([
      {
        type: 'value_bigger_than_max',
        message: 'Value 16385 bigger than max of 16384',
        details: 'width',
        extra_info: {
          input_name: 'width',
          input_config: recorded['EmptyImage']!.input['required']!['width'],
          received_value: 16385,
        },
      },
    ]);
  });

  it('checks a V3 combo against its served options and echoes the COMBO spec, as ComfyUI 0.3.64 does', async () => {
    const errors = await errorsOf({
      '1': { class_type: 'UpscaleModelLoader', inputs: { model_name: 'RealESRGAN_x4plus.pth' } },
      '2': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      '3': { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['1', 0], image: ['2', 0] } },
      '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
    });
    expect(errors['1']?.errors).toEqual([
      {
        type: 'value_not_in_list',
        message: 'Value not in list',
        details: "model_name: 'RealESRGAN_x4plus.pth' not in ['4x-UltraSharp.pth']",
        extra_info: {
          input_name: 'model_name',
          input_config: ['COMBO', { multiselect: false, options: ['4x-UltraSharp.pth'] }],
          received_value: 'RealESRGAN_x4plus.pth',
        },
      },
    ]);
  });
});
