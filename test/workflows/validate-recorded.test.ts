import { describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../src/workflows/validate.js';
import {
  DYNAMIC_NODE,
  IMPACT_STYLE_SWITCH,
  readObjectInfo,
  recordedObjectInfo,
  RGTHREE_ANY_SWITCH,
  VHS_VIDEO_COMBINE,
  withModelFiles,
} from '../comfy/fixtures/node-info.js';
import {
  buildReady,
  defaultGraph,
  inlineSource,
  node,
  seedSource,
  SHIPPED_NAMES,
  shippedSource,
  type TestGraph,
} from './helpers.js';

// The recorded server has one checkpoint (random_sd15_slim.safetensors) and no upscale model; the shipped workflows
// and the seed's name the files below, so the "server that has their models" is the recording plus these files.
const SHIPPED_FILES = {
  checkpoints: ['v1-5-pruned-emaonly.safetensors', 'v1-5-pruned-emaonly.ckpt', 'sd_xl_base_1.0.safetensors'],
  upscaleModels: ['RealESRGAN_x4plus.pth'],
};
const recorded = readObjectInfo(recordedObjectInfo());
const withFiles = readObjectInfo(withModelFiles(recordedObjectInfo(), SHIPPED_FILES));

/** The recording, plus custom node packs and a V3 dynamic-input node, and one node whose entry is garbage. */
const withCustomNodes = readObjectInfo({
  ...withModelFiles(recordedObjectInfo(), { checkpoints: ['model.safetensors'] }),
  ImageBatchDynamic: DYNAMIC_NODE,
  VHS_VideoCombine: VHS_VIDEO_COMBINE,
  'Any Switch (rgthree)': RGTHREE_ANY_SWITCH,
  ImpactSwitch: IMPACT_STYLE_SWITCH,
  FaceDetailer: { input: 5 },
});

function problemsOf(graph: TestGraph, info = withCustomNodes): readonly string[] {
  return validateWorkflow(buildReady(inlineSource('custom', graph)), info, 'real').problems;
}

describe('validating against the whole /object_info of a real ComfyUI 0.3.64', () => {
  it.each(SHIPPED_NAMES)('accepts the shipped %s workflow on a server with its model files', (name) => {
    const validation = validateWorkflow(buildReady(shippedSource(name)), withFiles, 'real');
    expect(validation.problems).toEqual([]);
    expect(validation.ok).toBe(true);
  });

  it("accepts the seed demo's workflow", () => {
    expect(validateWorkflow(buildReady(seedSource()), withFiles, 'real').problems).toEqual([]);
  });

  it('refuses only for the model files the recorded server lacks', () => {
    expect(validateWorkflow(buildReady(shippedSource('txt2img')), recorded, 'real').problems).toEqual([
      'txt2img: server real lacks checkpoint v1-5-pruned-emaonly.safetensors (node 4).',
    ]);
    expect(validateWorkflow(buildReady(shippedSource('upscale')), recorded, 'real').problems).toEqual([
      'upscale: server real lacks upscale model RealESRGAN_x4plus.pth (node 2).',
    ]);
    expect(validateWorkflow(buildReady(shippedSource('upscale-basic')), recorded, 'real').ok).toBe(true);
  });
});

describe('never refusing what a real server runs', () => {
  it('passes custom nodes fed inputs they do not declare, and wildcard, AnyType and comma-joined links', () => {
    const graph = defaultGraph();
    graph['4']!.inputs['ckpt_name'] = 'model.safetensors';
    graph['10'] = node('Any Switch (rgthree)', { any_01: ['8', 0], any_07: ['8', 0], speak_and_recognation: true });
    graph['11'] = node('ImpactSwitch', {
      select: 1,
      seed: 5,
      input1: ['10', 0],
      input2: ['8', 0],
      mask_or_image: ['8', 0],
      strength: ['3', 0],
      sel_mode: false,
    });
    graph['9']!.inputs['images'] = ['11', 0];
    graph['12'] = node('VHS_VideoCombine', {
      images: ['11', 0],
      frame_rate: 8,
      loop_count: 0,
      filename_prefix: 'clip',
      format: 'video/h264-mp4',
      pingpong: false,
      save_output: true,
      'videopreview.hidden': false,
    });
    expect(problemsOf(graph)).toEqual([]);
  });

  it('passes V3 dynamic inputs under dotted keys, multiselect lists, remote combos and wrapped values', () => {
    const graph = defaultGraph();
    graph['4']!.inputs['ckpt_name'] = 'model.safetensors';
    graph['10'] = node('ImageBatchDynamic', {
      'images.image0': ['8', 0],
      'images.image1': ['8', 0],
      mode: 'scale',
      'mode.factor': 2,
      tags: ['a', 'c'],
      model: 'anything-the-browser-chose',
    });
    graph['9']!.inputs['images'] = ['10', 0];
    graph['3']!.inputs['sampler_name'] = { __value__: 'euler' };
    expect(problemsOf(graph)).toEqual([]);
  });

  it('accepts what ComfyUI converts: a fractional INT and a number written as text', () => {
    const graph = defaultGraph();
    graph['4']!.inputs['ckpt_name'] = 'model.safetensors';
    const scale = { upscale_method: 'nearest-exact', width: 511.5, height: '512', crop: 'disabled', image: ['8', 0] };
    graph['10'] = node('ImageScale', scale);
    graph['9']!.inputs['images'] = ['10', 0];
    expect(problemsOf(graph)).toEqual([]);
  });

  it('still refuses what is certainly wrong: a value out of range, a missing input, a choice not offered', () => {
    const graph = defaultGraph();
    graph['4']!.inputs['ckpt_name'] = 'model.safetensors';
    graph['3']!.inputs['steps'] = 0;
    graph['3']!.inputs['sampler_name'] = { __value__: 'nope' };
    delete graph['5']!.inputs['batch_size'];
    graph['10'] = node('ImageBatchDynamic', { mode: 'none', tags: ['a', 'z'], model: 'm' });
    graph['9']!.inputs['images'] = ['10', 0];
    expect(problemsOf(graph)).toEqual([
      "custom: server real: node 3 (KSampler) input steps is 0, outside the server's 1 to 10000.",
      expect.stringMatching(
        /^custom: server real: node 3 \(KSampler\) input sampler_name is "nope", which is not one of/,
      ),
      'custom: server real: node 5 "Empty Latent Image" (EmptyLatentImage) lacks the required input batch_size.',
      'custom: server real: node 10 (ImageBatchDynamic) lacks the required input images.',
      'custom: server real: node 10 (ImageBatchDynamic) input tags is "z", which is not one of the server\'s choices ("a", "b", "c").',
    ]);
  });

  it('refuses a link between core types that certainly differ, but not one from a custom node', () => {
    const graph = defaultGraph();
    graph['4']!.inputs['ckpt_name'] = 'model.safetensors';
    graph['8']!.inputs['vae'] = ['4', 1];
    expect(problemsOf(graph)).toEqual([
      'custom: server real: node 8 (VAEDecode) input vae takes VAE but is linked to a CLIP output of node 4 "Load Checkpoint" (CheckpointLoaderSimple).',
    ]);
    graph['8']!.inputs['vae'] = ['11', 2];
    graph['11'] = node('ImpactSwitch', { select: 1, seed: 0 });
    expect(problemsOf(graph)).toEqual([]);
  });

  it('names the node type whose description could not be read, only for the workflows that use it', () => {
    const graph = defaultGraph();
    graph['4']!.inputs['ckpt_name'] = 'model.safetensors';
    expect(problemsOf(graph)).toEqual([]);
    graph['10'] = node('FaceDetailer', { image: ['8', 0] }, 'Face fix');
    graph['9']!.inputs['images'] = ['10', 0];
    expect(problemsOf(graph)).toEqual([
      'custom: server real: node type FaceDetailer (node 10 "Face fix" (FaceDetailer)): the server\'s description of it could not be read (input is a number, not an object).',
    ]);
  });
});
