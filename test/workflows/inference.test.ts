import { describe, expect, it } from 'vitest';
import { formatTarget } from '../../src/workflows/graph.js';
import { inferBindings, inferKind } from '../../src/workflows/inference.js';
import {
  buildReady,
  defaultGraph,
  inlineSource,
  node,
  seedSource,
  shippedGraph,
  shippedSource,
  type TestGraph,
} from './helpers.js';

function targetsOf(graph: TestGraph): Record<string, string[]> {
  const inferred = inferBindings(graph);
  return Object.fromEntries(
    Object.entries(inferred.bindings).map(([setting, targets]) => [setting, targets.map(formatTarget)]),
  );
}

describe('inference without a manifest', () => {
  it('binds every setting of the seed workflow to the node input a person would pick', () => {
    const workflow = buildReady(seedSource());
    expect(workflow.kind).toBe('text-to-image');
    expect(workflow.source).toBe('inferred');
    expect(workflow.notes).toEqual([]);
    const targets = Object.fromEntries(
      Object.values(workflow.settings).map((spec) => [spec.name, spec.targets.map(formatTarget)]),
    );
    expect(targets).toEqual({
      prompt: ['6.text'],
      negative: ['7.text'],
      seed: ['3.seed'],
      steps: ['3.steps'],
      cfg: ['3.cfg'],
      width: ['5.width'],
      height: ['5.height'],
      count: ['5.batch_size'],
      checkpoint: ['4.ckpt_name'],
      aspect: [],
    });
    expect(workflow.outputs).toEqual([
      { nodeId: '9', classType: 'SaveImage', title: 'Save Image', produces: 'images' },
    ]);
    expect(workflow.resolution).toEqual({ base: 512, multiple: 8 });
  });

  it('takes defaults from the graph but never the example prompt or the leftover seed', () => {
    const { settings } = buildReady(seedSource());
    expect(settings.prompt).toMatchObject({ required: true });
    expect(settings.prompt?.default).toBeUndefined();
    expect(settings.seed?.default).toBeUndefined();
    expect(settings.negative?.default).toBe('Politicians, sports stars, regional discrimination , trees');
    expect(settings.steps).toMatchObject({ default: 30, min: 1, max: 100 });
    expect(settings.cfg).toMatchObject({ default: 8, min: 0, max: 30 });
    expect(settings.width).toMatchObject({ default: 512, min: 64, max: 1024 });
    expect(settings.aspect?.default).toBe('1:1');
    expect(settings.checkpoint?.default).toBe('v1-5-pruned-emaonly.ckpt');
  });

  it('infers each shipped workflow without its manifest to the same targets the manifest pins', () => {
    for (const name of ['txt2img', 'sdxl', 'img2img', 'upscale', 'upscale-basic']) {
      const inferred = buildReady(shippedSource(name, false));
      const pinned = buildReady(shippedSource(name, true));
      expect(inferred.kind, name).toBe(pinned.kind);
      expect(inferred.notes, name).toEqual([]);
      // Where to add LoRAs is the manifest's to say: a graph without LoRA loaders takes none.
      for (const spec of Object.values(pinned.settings).filter((pin) => pin.name !== 'lora')) {
        expect(inferred.settings[spec.name]?.targets, `${name} ${spec.name}`).toEqual(spec.targets);
      }
      expect(inferred.outputs, name).toEqual(pinned.outputs);
    }
  });

  it('reads the animated workflow without a manifest as text-to-image posting its animated WebP', () => {
    const workflow = buildReady(shippedSource('animated', false));
    expect(workflow.kind).toBe('text-to-image');
    expect(workflow.outputs.map((output) => output.classType)).toEqual(['SaveAnimatedWEBP']);
    // Without the manifest the frame count looks like a batch size; the manifest turns count off.
    expect(workflow.settings.count?.default).toBe(8);
    expect(buildReady(shippedSource('animated')).settings.count).toBeUndefined();
  });

  it('recognises image-to-image, upscale and other kinds from the nodes present', () => {
    expect(buildReady(shippedSource('img2img', false)).kind).toBe('image-to-image');
    expect(buildReady(shippedSource('upscale', false)).kind).toBe('upscale');
    expect(buildReady(shippedSource('upscale-basic', false)).kind).toBe('upscale');
    const noSampler: TestGraph = { '1': node('EmptyImage', { width: 8, height: 8, batch_size: 1, color: 0 }) };
    expect(inferKind({ ...noSampler, '2': node('SaveImage', { images: ['1', 0], filename_prefix: 'x' }) })).toBe(
      'other',
    );
  });

  it('binds denoise only where the sampler starts from an image', () => {
    expect(buildReady(seedSource()).settings.denoise).toBeUndefined();
    expect(buildReady(shippedSource('img2img', false)).settings.denoise).toMatchObject({
      targets: [{ nodeId: '3', input: 'denoise' }],
      default: 0.6,
    });
  });

  it('follows the prompt through conditioning combiners and ControlNet appliers', () => {
    const graph = defaultGraph();
    graph['10'] = node('ControlNetApplyAdvanced', {
      positive: ['11', 0],
      negative: ['7', 0],
      control_net: ['12', 0],
      image: ['13', 0],
      strength: 1,
      start_percent: 0,
      end_percent: 1,
    });
    graph['11'] = node('ConditioningSetTimestepRange', { conditioning: ['6', 0], start: 0, end: 1 });
    graph['3']!.inputs = { ...graph['3']!.inputs, positive: ['10', 0], negative: ['10', 1] };
    expect(targetsOf(graph)).toMatchObject({ prompt: ['6.text'], negative: ['7.text'] });
  });

  it('reports two prompts combined into one sampler as ambiguous and binds neither', () => {
    const graph = defaultGraph();
    graph['10'] = node('CLIPTextEncode', { text: 'style words', clip: ['4', 1] });
    graph['11'] = node('ConditioningCombine', { conditioning_1: ['6', 0], conditioning_2: ['10', 0] });
    graph['3']!.inputs = { ...graph['3']!.inputs, positive: ['11', 0] };
    const workflow = buildReady(inlineSource('combined', graph));
    expect(workflow.settings.prompt).toBeUndefined();
    expect(workflow.settings.negative?.targets).toEqual([{ nodeId: '7', input: 'text' }]);
    expect(workflow.notes).toEqual([
      'combined.json: The positive conditioning comes from node 6 "Positive" (CLIPTextEncode) and node 10 (CLIPTextEncode), so the prompt is ambiguous; pin it in a manifest, e.g. "prompt": ["6.text","10.text"].',
    ]);
  });

  it('loads a graph with two samplers with what is certain and says what a manifest should pin', () => {
    const graph = defaultGraph();
    graph['10'] = node('KSampler', {
      ...graph['3']!.inputs,
      seed: 2,
      latent_image: ['3', 0],
      denoise: 0.5,
    });
    graph['8']!.inputs = { samples: ['10', 0], vae: ['4', 2] };
    const workflow = buildReady(inlineSource('hires', graph));
    expect(workflow.settings.prompt?.targets).toEqual([{ nodeId: '6', input: 'text' }]);
    expect(workflow.settings.width?.targets).toEqual([{ nodeId: '5', input: 'width' }]);
    expect(workflow.settings.seed).toBeUndefined();
    expect(workflow.settings.steps).toBeUndefined();
    expect(workflow.settings.cfg).toBeUndefined();
    expect(workflow.notes).toEqual([
      'hires.json: 2 inputs could take seed (node 3 (KSampler) seed, node 10 (KSampler) seed); pin the ones to set in a manifest, e.g. "seed": ["3.seed","10.seed"].',
      'hires.json: 2 inputs could take steps (node 3 (KSampler) steps, node 10 (KSampler) steps); pin the ones to set in a manifest, e.g. "steps": ["3.steps","10.steps"].',
      'hires.json: 2 inputs could take cfg (node 3 (KSampler) cfg, node 10 (KSampler) cfg); pin the ones to set in a manifest, e.g. "cfg": ["3.cfg","10.cfg"].',
    ]);
  });

  it('silences an ambiguity note once a manifest pins that setting', () => {
    const graph = defaultGraph();
    graph['10'] = node('KSampler', { ...graph['3']!.inputs, latent_image: ['3', 0] });
    const workflow = buildReady(
      inlineSource('hires', graph, { settings: { seed: ['3.seed', '10.seed'], steps: '10.steps', cfg: false } }),
    );
    expect(workflow.notes).toEqual([]);
    expect(workflow.settings.seed?.targets.map(formatTarget)).toEqual(['3.seed', '10.seed']);
    expect(workflow.settings.steps?.targets.map(formatTarget)).toEqual(['10.steps']);
    expect(workflow.settings.cfg).toBeUndefined();
  });

  it('shares one seed when two samplers read it from the same primitive node', () => {
    const graph = defaultGraph();
    graph['20'] = node('PrimitiveInt', { value: 5 }, 'Seed');
    graph['3']!.inputs = { ...graph['3']!.inputs, seed: ['20', 0] };
    graph['10'] = node('KSamplerAdvanced', {
      add_noise: 'enable',
      noise_seed: ['20', 0],
      steps: 20,
      cfg: 8,
      sampler_name: 'euler',
      scheduler: 'normal',
      start_at_step: 10,
      end_at_step: 20,
      return_with_leftover_noise: 'disable',
      model: ['4', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['3', 0],
    });
    expect(targetsOf(graph)['seed']).toEqual(['20.value']);
  });

  it('reads a Flux-style SamplerCustomAdvanced graph and ignores a zeroed-out negative', () => {
    const graph: TestGraph = {
      '1': node('UNETLoader', { unet_name: 'flux1-dev.safetensors', weight_dtype: 'default' }),
      '2': node('DualCLIPLoader', { clip_name1: 't5xxl.safetensors', clip_name2: 'clip_l.safetensors', type: 'flux' }),
      '3': node('CLIPTextEncode', { text: 'a lighthouse', clip: ['2', 0] }),
      '4': node('FluxGuidance', { guidance: 3.5, conditioning: ['3', 0] }),
      '5': node('ConditioningZeroOut', { conditioning: ['3', 0] }),
      '6': node('CFGGuider', { model: ['1', 0], positive: ['4', 0], negative: ['5', 0], cfg: 1 }),
      '7': node('RandomNoise', { noise_seed: 42 }),
      '8': node('BasicScheduler', { model: ['1', 0], scheduler: 'simple', steps: 20, denoise: 1 }),
      '9': node('KSamplerSelect', { sampler_name: 'euler' }),
      '10': node('EmptySD3LatentImage', { width: 1024, height: 1024, batch_size: 1 }),
      '11': node('SamplerCustomAdvanced', {
        noise: ['7', 0],
        guider: ['6', 0],
        sampler: ['9', 0],
        sigmas: ['8', 0],
        latent_image: ['10', 0],
      }),
      '12': node('VAEDecode', { samples: ['11', 0], vae: ['13', 0] }),
      '13': node('VAELoader', { vae_name: 'ae.safetensors' }),
      '14': node('SaveImage', { images: ['12', 0], filename_prefix: 'flux' }),
    };
    expect(targetsOf(graph)).toEqual({
      prompt: ['3.text'],
      seed: ['7.noise_seed'],
      steps: ['8.steps'],
      cfg: ['6.cfg'],
      width: ['10.width'],
      height: ['10.height'],
      count: ['10.batch_size'],
    });
    expect(inferKind(graph)).toBe('text-to-image');
  });

  it('says when the prompt comes from a node it cannot read', () => {
    const graph = defaultGraph();
    graph['10'] = node('SomeCustomPromptNode', { text: 'x', clip: ['4', 1] });
    graph['3']!.inputs = { ...graph['3']!.inputs, positive: ['10', 0] };
    const workflow = buildReady(inlineSource('custom', graph));
    expect(workflow.settings.prompt).toBeUndefined();
    expect(workflow.notes[0]).toContain('node 10 (SomeCustomPromptNode)');
    expect(workflow.notes[0]).toContain('"prompt": ["<node>.<input>"]');
  });

  it('binds count to RepeatLatentBatch in an image-to-image graph that has one', () => {
    const img2img = shippedGraph('img2img');
    expect(targetsOf(img2img)['count']).toBeUndefined();
    img2img['12'] = node('RepeatLatentBatch', { samples: ['11', 0], amount: 1 });
    img2img['3']!.inputs = { ...img2img['3']!.inputs, latent_image: ['12', 0] };
    expect(targetsOf(img2img)['count']).toEqual(['12.amount']);
  });

  it('posts saving outputs and leaves previews out, saying so', () => {
    const graph = defaultGraph();
    graph['10'] = node('PreviewImage', { images: ['8', 0] });
    const workflow = buildReady(inlineSource('preview', graph));
    expect(workflow.outputs.map((output) => output.nodeId)).toEqual(['9']);
    expect(workflow.notes).toEqual([
      'preview.json: node 10 (PreviewImage) only previews and is not posted; list it in "outputs" to post it.',
    ]);
    delete graph['9'];
    expect(buildReady(inlineSource('preview', graph)).outputs.map((output) => output.nodeId)).toEqual(['10']);
  });
});
