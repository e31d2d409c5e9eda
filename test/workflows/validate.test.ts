import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/logger.js';
import { loadWorkflows, type LoadedWorkflows } from '../../src/workflows/load.js';
import { listModels, parseObjectInfo, type ObjectInfo } from '../../src/workflows/object-info.js';
import { chooseWorkflow, usableServers, validateWorkflows } from '../../src/workflows/usable.js';
import { validateWorkflow } from '../../src/workflows/validate.js';
import { buildReady, defaultGraph, inlineSource, node, SHIPPED_DIR } from './helpers.js';

async function objectInfoOf(emulator: Emulator): Promise<ObjectInfo> {
  const response = await fetch(`${emulator.url}/object_info`);
  expect(response.status).toBe(200);
  return readObjectInfo(await response.json());
}

function readObjectInfo(body: unknown): ObjectInfo {
  const reading = parseObjectInfo(body);
  if (!reading.ok) throw new Error(reading.problem);
  return reading.info;
}

describe('validating workflows against a server /object_info', () => {
  let full: Emulator;
  let bare: Emulator;
  let fullInfo: ObjectInfo;
  let bareInfo: ObjectInfo;
  let workflows: LoadedWorkflows;

  beforeAll(async () => {
    full = await startEmulator({ port: 0 });
    // A second server with only the SD1.5 checkpoint and no upscale model.
    bare = await startEmulator({ port: 0, checkpoints: ['v1-5-pruned-emaonly.safetensors'], upscaleModels: [] });
    [fullInfo, bareInfo] = await Promise.all([objectInfoOf(full), objectInfoOf(bare)]);
    workflows = await loadWorkflows(SHIPPED_DIR, silentLogger());
  });

  afterAll(async () => {
    await Promise.all([full?.close(), bare?.close()]);
  });

  it('accepts every shipped workflow on a server that has their models', () => {
    for (const workflow of workflows.list()) {
      expect(validateWorkflow(workflow, fullInfo, 'gpu-1')).toEqual({
        workflow: workflow.name,
        server: 'gpu-1',
        ok: true,
        problems: [],
        warnings: [],
        modelProblems: [],
      });
    }
  });

  it('names the missing checkpoint and upscale model, and marks those workflows usable only elsewhere', () => {
    expect(validateWorkflow(workflows.get('sdxl')!, bareInfo, 'gpu-2')).toMatchObject({
      ok: false,
      problems: ['sdxl: server gpu-2 lacks checkpoint sd_xl_base_1.0.safetensors (node 4).'],
    });
    expect(validateWorkflow(workflows.get('upscale')!, bareInfo, 'gpu-2').problems).toEqual([
      'upscale: server gpu-2 lacks upscale model RealESRGAN_x4plus.pth (node 2).',
    ]);
    const servers = [
      { name: 'gpu-1', objectInfo: fullInfo },
      { name: 'gpu-2', objectInfo: bareInfo },
    ];
    const validations = validateWorkflows(workflows.list(), servers);
    expect(validations).toHaveLength(workflows.list().length * 2);
    expect(usableServers(validations, 'sdxl')).toEqual(['gpu-1']);
    expect(usableServers(validations, 'txt2img')).toEqual(['gpu-1', 'gpu-2']);
    expect(usableServers(validations, 'upscale-basic')).toEqual(['gpu-1', 'gpu-2']);
  });

  it('falls back from upscale to upscale-basic where the upscale model is missing', () => {
    const usableOn = (info: ObjectInfo) => (workflow: Parameters<typeof validateWorkflow>[0]) =>
      validateWorkflow(workflow, info, 'server').ok;
    expect(chooseWorkflow(workflows, 'upscale', usableOn(fullInfo))?.name).toBe('upscale');
    expect(chooseWorkflow(workflows, 'upscale', usableOn(bareInfo))?.name).toBe('upscale-basic');
    expect(chooseWorkflow(workflows, 'sdxl', usableOn(bareInfo))).toBeUndefined();
    expect(chooseWorkflow(workflows, 'nope', usableOn(fullInfo))).toBeUndefined();
  });

  it('reports a node type the server does not have', () => {
    const graph = defaultGraph();
    graph['10'] = node('FaceDetailer', { image: ['8', 0], guide_size: 384 }, 'Face fix');
    graph['9']!.inputs = { ...graph['9']!.inputs, images: ['10', 0] };
    const result = validateWorkflow(buildReady(inlineSource('portrait', graph)), fullInfo, 'gpu-1');
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      'portrait: server gpu-1 lacks checkpoint model.safetensors (node 4).',
      'portrait: server gpu-1 has no node type FaceDetailer (node 10 "Face fix" (FaceDetailer)); install the custom nodes that provide it, or update ComfyUI.',
    ]);
  });

  it('reports missing inputs, values out of range or not in the list, and mismatched links', () => {
    const graph = defaultGraph();
    graph['4']!.inputs = { ckpt_name: 'v1-5-pruned-emaonly.ckpt' };
    const { scheduler: _dropped, ...sampler } = graph['3']!.inputs;
    graph['3']!.inputs = { ...sampler, sampler_name: 'euler_magic', cfg: 150, model: ['4', 1] };
    const workflow = buildReady(inlineSource('broken', graph, { settings: { cfg: false } }));
    expect(validateWorkflow(workflow, fullInfo, 'gpu-1').problems).toEqual([
      'broken: server gpu-1: node 3 (KSampler) lacks the required input scheduler.',
      "broken: server gpu-1: node 3 (KSampler) input cfg is 150, outside the server's 0 to 100.",
      expect.stringMatching(
        /^broken: server gpu-1: node 3 \(KSampler\) input sampler_name is "euler_magic", which is not one of the server's choices \("euler", "euler_cfg_pp", .*, … \d+ more\)\.$/,
      ),
      'broken: server gpu-1: node 3 (KSampler) input model takes MODEL but is linked to a CLIP output of node 4 "Load Checkpoint" (CheckpointLoaderSimple).',
    ]);
  });

  it('checks the manifest defaults that jobs will send, not the graph leftovers they replace', () => {
    const graph = defaultGraph();
    graph['4']!.inputs = { ckpt_name: 'not-on-server.safetensors' };
    graph['3']!.inputs = { ...graph['3']!.inputs, steps: 999_999 };
    const workflow = buildReady(
      inlineSource('pinned', graph, {
        settings: { checkpoint: { default: 'v1-5-pruned-emaonly.safetensors' }, steps: { default: 20, max: 60 } },
      }),
    );
    expect(validateWorkflow(workflow, fullInfo, 'gpu-1').problems).toEqual([]);
  });

  it('refuses an output the server does not treat as an output node', () => {
    const workflow = buildReady(inlineSource('decode-only', defaultGraph(), { outputs: ['8'] }));
    expect(validateWorkflow(workflow, fullInfo, 'gpu-1').problems).toEqual([
      'decode-only: server gpu-1 lacks checkpoint model.safetensors (node 4).',
      'decode-only: server gpu-1: node 8 (VAEDecode) is not an output node there, so nothing would be posted.',
    ]);
  });

  it('warns about manifest choices and limits the server cannot honour', () => {
    const graph = defaultGraph();
    graph['4']!.inputs = { ckpt_name: 'v1-5-pruned-emaonly.safetensors' };
    const workflow = buildReady(
      inlineSource('generous', graph, {
        settings: {
          checkpoint: { choices: ['v1-5-pruned-emaonly.safetensors', 'juggernaut.safetensors'] },
          steps: { max: 80 },
        },
      }),
    );
    // A server whose KSampler (say, a patched one) stops at 50 steps.
    const sampler = fullInfo.nodes.get('KSampler')!;
    const required = new Map(sampler.required).set('steps', ['INT', { default: 20, min: 1, max: 50 }]);
    const capped = { ...fullInfo, nodes: new Map(fullInfo.nodes).set('KSampler', { ...sampler, required }) };
    const result = validateWorkflow(workflow, capped, 'gpu-1');
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      'generous: server gpu-1 lacks the checkpoint choice juggernaut.safetensors.',
      'generous: server gpu-1: steps allows up to 80, but node 3 (KSampler) takes at most 50 there.',
    ]);
  });

  it('lists the server models for autocomplete', () => {
    const models = listModels(fullInfo);
    expect(models.checkpoints).toEqual([
      'v1-5-pruned-emaonly.ckpt',
      'v1-5-pruned-emaonly.safetensors',
      'sd_xl_base_1.0.safetensors',
    ]);
    expect(models.loras).toEqual(['detail.safetensors']);
    expect(models.upscaleModels).toEqual(['RealESRGAN_x4plus.pth']);
    expect(models.samplers).toContain('dpmpp_2m');
    expect(models.schedulers).toContain('karras');
    expect(listModels(bareInfo).upscaleModels).toEqual([]);
  });
});

describe('reading object_info', () => {
  it('accepts both combo shapes, old and new', () => {
    const info = readObjectInfo({
      CheckpointLoaderSimple: { input: { required: { ckpt_name: [['a.safetensors', 'b.ckpt'], {}] } } },
      LoraLoader: { input: { required: { lora_name: ['COMBO', { options: ['x.safetensors'], multiselect: false }] } } },
    });
    expect(listModels(info)).toMatchObject({ checkpoints: ['a.safetensors', 'b.ckpt'], loras: ['x.safetensors'] });
  });

  it('sets aside node entries it cannot read, with the reason, instead of failing', () => {
    const info = readObjectInfo({ Good: { input: { required: {} }, output: [] }, Bad: 'nonsense', Worse: null });
    expect([...info.nodes.keys()]).toEqual(['Good']);
    expect(Object.fromEntries(info.unreadable)).toEqual({ Bad: 'the entry is a string', Worse: 'the entry is null' });
    expect(parseObjectInfo('not an object')).toEqual({
      ok: false,
      problem: 'its body is a string, not an object of node types',
    });
  });

  it('says so when a server reported no node types at all', () => {
    const workflow = buildReady(inlineSource('any', defaultGraph()));
    expect(validateWorkflow(workflow, readObjectInfo({}), 'gpu-3').problems).toEqual([
      'any: server gpu-3 reported no node types it could be checked against.',
    ]);
  });
});
