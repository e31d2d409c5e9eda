import { describe, expect, it } from 'vitest';
import { say } from '../../src/i18n/catalog.js';
import { bindWorkflow, type BindResult } from '../../src/workflows/bind.js';
import { formatTarget, type ApiGraph } from '../../src/workflows/graph.js';
import type { GenerationSettings } from '../../src/workflows/settings.js';
import { acceptedSettings, type SettingSpec, type Workflow } from '../../src/workflows/workflow.js';
import {
  buildReady,
  defaultGraph,
  inlineSource,
  node,
  SHIPPED_NAMES,
  seedSource,
  shippedGraph,
  shippedSource,
} from './helpers.js';

const shipped = Object.fromEntries(SHIPPED_NAMES.map((name) => [name, buildReady(shippedSource(name))])) as Record<
  (typeof SHIPPED_NAMES)[number],
  Workflow
>;
const all = Object.values(shipped);
const fixedRandom = (): number => 0.25;

function bound(result: BindResult): Extract<BindResult, { ok: true }> {
  if (!result.ok) throw new Error(`binding failed: ${result.errors.map((error) => error.message).join(' | ')}`);
  return result;
}

function errorsOf(result: BindResult): Array<[string, string]> {
  if (result.ok) throw new Error('binding unexpectedly succeeded');
  return result.errors.map((error) => [error.setting, error.message]);
}

function valueAt(graph: ApiGraph, target: string): unknown {
  const [nodeId, input] = target.split('.') as [string, string];
  return graph[nodeId]?.inputs[input];
}

/** A value the setting accepts that differs from its default, so the test sees it land. */
function otherValue(spec: SettingSpec): unknown {
  if (spec.name === 'image') return { name: 'uploads/in put.png' };
  if (spec.name === 'prompt' || spec.name === 'negative') return `a "quoted" {brace}\n${spec.name} \\ text`;
  if (spec.choices) return spec.choices.find((choice) => choice !== spec.default) ?? spec.choices[0];
  if (spec.name === 'checkpoint') return 'other-model.safetensors';
  if (spec.name === 'seed') return 123_456_789;
  if (spec.name === 'count') return 3;
  if (spec.name === 'denoise') return 0.35;
  return spec.min !== undefined && spec.min !== spec.default ? spec.min : spec.max;
}

describe('binding settings to a workflow', () => {
  it('writes every accepted setting of every shipped workflow and the seed to its node inputs', () => {
    for (const workflow of [...all, buildReady(seedSource())]) {
      for (const spec of acceptedSettings(workflow)) {
        // LoRAs are a list, bound by their own tests below.
        if (spec.name === 'aspect' || spec.name === 'width' || spec.name === 'height' || spec.name === 'lora') continue;
        const value = otherValue(spec);
        const settings = {
          prompt: workflow.settings.prompt ? 'a fox' : '',
          ...(workflow.settings.image && spec.name !== 'image' ? { image: { name: 'in.png' } } : {}),
          [spec.name]: value,
        } as GenerationSettings;
        const result = bound(bindWorkflow(workflow, settings, { random: fixedRandom }));
        const expected = spec.name === 'image' ? 'uploads/in put.png' : value;
        for (const target of spec.targets) {
          expect(valueAt(result.graph, formatTarget(target)), `${workflow.name} ${spec.name}`).toEqual(expected);
        }
        expect(result.applied[spec.name as keyof typeof result.applied], `${workflow.name} ${spec.name}`).toEqual(
          expected,
        );
      }
    }
  });

  it('fills defaults and a fresh seed when only a prompt is given, leaving the loaded graph untouched', () => {
    const before = JSON.stringify(shipped.txt2img.graph);
    const result = bound(bindWorkflow(shipped.txt2img, { prompt: 'a red fox in the snow' }, { random: fixedRandom }));
    expect(result.applied).toEqual({
      prompt: 'a red fox in the snow',
      negative: 'text, watermark, blurry, lowres',
      width: 512,
      height: 512,
      aspect: '1:1',
      count: 1,
      seed: 2_251_800_887_427_072,
      steps: 25,
      cfg: 7,
      checkpoint: 'v1-5-pruned-emaonly.safetensors',
    });
    expect(valueAt(result.graph, '3.seed')).toBe(2_251_800_887_427_072);
    expect(valueAt(result.graph, '6.text')).toBe('a red fox in the snow');
    expect(JSON.stringify(shipped.txt2img.graph)).toBe(before);
    expect(result.graph).not.toBe(shipped.txt2img.graph);
  });

  it('draws a different seed for every job unless the member sets one', () => {
    const seeds = new Set(
      Array.from({ length: 5 }, () => bound(bindWorkflow(shipped.sdxl, { prompt: 'x' })).applied.seed),
    );
    expect(seeds.size).toBe(5);
    expect(bound(bindWorkflow(shipped.sdxl, { prompt: 'x', seed: 42 })).applied.seed).toBe(42);
  });

  it('places prompt text as a value, whatever characters it holds', () => {
    const prompt = '"}, "4": {"class_type": "Evil"} \u0000 ünïcode 🦊';
    const result = bound(bindWorkflow(shipped.txt2img, { prompt }));
    expect(valueAt(result.graph, '6.text')).toBe(prompt);
    expect(Object.keys(result.graph)).toEqual(Object.keys(shipped.txt2img.graph));
  });

  it('turns an aspect into a size from the base resolution', () => {
    expect(bound(bindWorkflow(shipped.sdxl, { prompt: 'x', aspect: '16:9' })).applied).toMatchObject({
      width: 1344,
      height: 768,
      aspect: '16:9',
    });
    const result = bound(bindWorkflow(shipped.txt2img, { prompt: 'x', aspect: '2:3' }));
    expect([valueAt(result.graph, '5.width'), valueAt(result.graph, '5.height')]).toEqual([416, 624]);
    expect(bound(bindWorkflow(buildReady(seedSource()), { prompt: 'x', aspect: '16:9' })).applied).toMatchObject({
      width: 680,
      height: 384,
    });
  });

  it('shrinks an aspect that would exceed the workflow limits, keeping its ratio', () => {
    const workflow = buildReady(
      inlineSource('capped', defaultGraph(), {
        resolution: { base: 1024 },
        settings: { width: { max: 1024 }, height: { max: 1024 } },
      }),
    );
    expect(bound(bindWorkflow(workflow, { prompt: 'x', aspect: '4:1' })).applied).toMatchObject({
      width: 1024,
      height: 256,
      aspect: '4:1',
    });
    expect(errorsOf(bindWorkflow(shipped.animated, { prompt: 'x', aspect: '4:1' }))).toEqual([
      ['aspect', 'aspect must be one of 1:1, 4:3, 3:4, 16:9, 9:16 for animated.'],
    ]);
  });

  it('snaps an explicit width and height to the model multiple', () => {
    expect(bound(bindWorkflow(shipped.sdxl, { prompt: 'x', width: 1000, height: 1530 })).applied).toMatchObject({
      width: 1024,
      height: 1536,
      aspect: '2:3',
    });
    expect(bound(bindWorkflow(shipped.sdxl, { prompt: 'x', width: 1280 })).applied).toMatchObject({
      width: 1280,
      height: 1024,
    });
  });

  it('refuses sizes outside the limits and an aspect given with a size', () => {
    expect(errorsOf(bindWorkflow(shipped.sdxl, { prompt: 'x', width: 4096 }))).toEqual([
      ['width', 'width must be between 512 and 2048 for sdxl.'],
    ]);
    expect(errorsOf(bindWorkflow(shipped.txt2img, { prompt: 'x', height: 64 }))).toEqual([
      ['height', 'height must be between 256 and 1024 for txt2img.'],
    ]);
    expect(errorsOf(bindWorkflow(shipped.txt2img, { prompt: 'x', aspect: '1:1', width: 512 }))).toEqual([
      ['aspect', 'Give either an aspect ratio or a width and height, not both.'],
    ]);
  });

  it('says the limits of a manifest in the member’s language', () => {
    const german = (result: BindResult) => (result.ok ? [] : result.errors.map((error) => say('de', error.sentence!)));
    expect(german(bindWorkflow(shipped.sdxl, { prompt: 'x', width: 4096, steps: 5 }))).toEqual([
      'steps muss für sdxl zwischen 10 und 60 liegen.',
      'width muss für sdxl zwischen 512 und 2048 liegen.',
    ]);
    expect(german(bindWorkflow(shipped.animated, { prompt: 'x', aspect: '4:1' }))).toEqual([
      'aspect muss für animated eines von 1:1, 4:3, 3:4, 16:9, 9:16 sein.',
    ]);
    expect(german(bindWorkflow(shipped.txt2img, { prompt: 'x', aspect: '1:1', width: 512 }))).toEqual([
      'Gib entweder ein Seitenverhältnis oder Breite und Höhe an, nicht beides.',
    ]);
  });

  it('names the setting and its allowed range when a value is out of bounds', () => {
    expect(errorsOf(bindWorkflow(shipped.txt2img, { prompt: 'x', steps: 61 }))).toEqual([
      ['steps', 'steps must be between 1 and 60 for txt2img.'],
    ]);
    expect(errorsOf(bindWorkflow(shipped.sdxl, { prompt: 'x', steps: 5, cfg: 20 }))).toEqual([
      ['steps', 'steps must be between 10 and 60 for sdxl.'],
      ['cfg', 'cfg must be between 1 and 15 for sdxl.'],
    ]);
    expect(errorsOf(bindWorkflow(shipped.img2img, { prompt: 'x', image: { name: 'a.png' }, denoise: 0.01 }))).toEqual([
      ['denoise', 'denoise must be between 0.05 and 1 for img2img.'],
    ]);
  });

  it('refuses settings a workflow does not take and suggests one that does', () => {
    const options = { workflows: all };
    expect(
      errorsOf(bindWorkflow(shipped.txt2img, { prompt: 'x', image: { name: 'a.png' }, denoise: 0.5 }, options)),
    ).toEqual([
      ['denoise', 'txt2img does not take a denoise strength; use --wf img2img.'],
      ['image', 'txt2img does not take an input image; use --wf img2img.'],
    ]);
    expect(errorsOf(bindWorkflow(shipped.img2img, { prompt: 'x', image: { name: 'a' }, aspect: '16:9' }))).toEqual([
      ['aspect', 'img2img does not take an aspect ratio.'],
    ]);
    expect(errorsOf(bindWorkflow(shipped.animated, { prompt: 'x', count: 2, checkpoint: 'a' }, options))).toEqual([
      ['count', 'animated makes one image at a time, so count must be 1; use --wf sdxl.'],
      ['checkpoint', 'animated does not take a model choice; use --wf sdxl.'],
    ]);
    expect(
      errorsOf(
        bindWorkflow(
          shipped.upscale,
          { prompt: '', image: { name: 'a.png' }, loras: [{ name: 'detail.safetensors' }] },
          options,
        ),
      ),
    ).toEqual([['loras', 'upscale does not take LoRAs.']]);
  });

  it('takes a single image and a blank prompt as what every workflow does anyway', () => {
    const result = bound(bindWorkflow(shipped.upscale, { prompt: ' ', count: 1, image: { name: 'photo.png' } }));
    expect(result.applied).toEqual({ image: 'photo.png' });
    expect(valueAt(result.graph, '1.image')).toBe('photo.png');
  });

  it('refuses a prompt, negative, seed and count for an upscale, and asks for the image', () => {
    expect(
      errorsOf(bindWorkflow(shipped['upscale-basic'], { prompt: 'sharp', negative: 'x', seed: 1, count: 2 })),
    ).toEqual([
      ['prompt', 'upscale-basic does not take a prompt.'],
      ['negative', 'upscale-basic does not take a negative prompt.'],
      ['seed', 'upscale-basic does not take a seed.'],
      ['count', 'upscale-basic makes one image at a time, so count must be 1.'],
      ['image', 'upscale-basic needs an input image; attach one.'],
    ]);
  });

  it('asks for a prompt where one is required', () => {
    expect(errorsOf(bindWorkflow(shipped.txt2img, { prompt: '   ' }))).toEqual([['prompt', 'txt2img needs a prompt.']]);
    expect(errorsOf(bindWorkflow(shipped.img2img, { prompt: 'x' }))).toEqual([
      ['image', 'img2img needs an input image; attach one.'],
    ]);
  });

  it('refuses settings meant for another workflow', () => {
    expect(errorsOf(bindWorkflow(shipped.txt2img, { prompt: 'x', workflow: 'sdxl' }))).toEqual([
      ['workflow', 'These settings are for sdxl, not txt2img.'],
    ]);
    expect(bound(bindWorkflow(shipped.txt2img, { prompt: 'x', workflow: 'TXT2IMG' })).applied.prompt).toBe('x');
  });

  it('checks malformed settings with the shared schema', () => {
    const result = bindWorkflow(shipped.txt2img, { prompt: 'x', count: 9, seed: -1 } as GenerationSettings);
    expect(errorsOf(result)).toEqual([
      ['seed', 'seed must be at least 0.'],
      ['count', 'count must be at most 4.'],
    ]);
  });

  it('refuses a checkpoint or LoRA the chosen server does not have', () => {
    const models = { checkpoints: ['v1-5-pruned-emaonly.safetensors', 'dreamshaper_8.safetensors'], loras: [] };
    expect(
      bound(bindWorkflow(shipped.txt2img, { prompt: 'x', checkpoint: 'dreamshaper_8.safetensors' }, { models })).applied
        .checkpoint,
    ).toBe('dreamshaper_8.safetensors');
    expect(errorsOf(bindWorkflow(shipped.txt2img, { prompt: 'x', checkpoint: 'nope.ckpt' }, { models }))).toEqual([
      [
        'checkpoint',
        'The model nope.ckpt is not on this server; it has v1-5-pruned-emaonly.safetensors, dreamshaper_8.safetensors.',
      ],
    ]);
    // The default checkpoint is checked too: the server must have it.
    expect(errorsOf(bindWorkflow(shipped.sdxl, { prompt: 'x' }, { models }))[0]?.[0]).toBe('checkpoint');
  });

  it('binds a LoRA and checks it against the server list and the manifest choices', () => {
    const graph = defaultGraph();
    graph['10'] = node('LoraLoader', {
      lora_name: 'detail.safetensors',
      strength_model: 1,
      strength_clip: 1,
      model: ['4', 0],
      clip: ['4', 1],
    });
    graph['3']!.inputs = { ...graph['3']!.inputs, model: ['10', 0] };
    const workflow = buildReady(
      inlineSource('lora', graph, { settings: { lora: { choices: ['detail.safetensors', 'ink.safetensors'] } } }),
    );
    const result = bound(bindWorkflow(workflow, { prompt: 'x', loras: [{ name: 'ink.safetensors', weight: 0.5 }] }));
    expect(valueAt(result.graph, '10.lora_name')).toBe('ink.safetensors');
    expect(valueAt(result.graph, '10.strength_model')).toBe(0.5);
    expect(valueAt(result.graph, '10.strength_clip')).toBe(0.5);
    expect(result.applied.loras).toEqual([{ name: 'ink.safetensors', weight: 0.5 }]);
    expect(errorsOf(bindWorkflow(workflow, { prompt: 'x', loras: [{ name: 'zz.safetensors' }] }))).toEqual([
      ['lora', 'a LoRA must be one of detail.safetensors, ink.safetensors for lora.'],
    ]);
    expect(
      errorsOf(
        bindWorkflow(
          workflow,
          { prompt: 'x', loras: [{ name: 'ink.safetensors' }] },
          { models: { loras: ['detail.safetensors'] } },
        ),
      ),
    ).toEqual([['lora', 'The LoRA ink.safetensors is not on this server; it has detail.safetensors.']]);
  });

  it('writes count to RepeatLatentBatch in an image-to-image workflow that has one', () => {
    const graph = shippedGraph('img2img');
    graph['12'] = node('RepeatLatentBatch', { samples: ['11', 0], amount: 1 });
    graph['3']!.inputs = { ...graph['3']!.inputs, latent_image: ['12', 0] };
    const workflow = buildReady(inlineSource('variations', graph));
    const result = bound(bindWorkflow(workflow, { prompt: 'x', image: { name: 'a.png' }, count: 4 }));
    expect(valueAt(result.graph, '12.amount')).toBe(4);
  });

  it('writes one value to every input a setting is bound to', () => {
    const graph = defaultGraph();
    graph['10'] = node('KSampler', { ...graph['3']!.inputs, latent_image: ['3', 0] });
    const workflow = buildReady(inlineSource('two', graph, { settings: { seed: ['3.seed', '10.seed'] } }));
    const result = bound(bindWorkflow(workflow, { prompt: 'x', seed: 7 }));
    expect([valueAt(result.graph, '3.seed'), valueAt(result.graph, '10.seed')]).toEqual([7, 7]);
  });
});

describe('binding a workflow whose manifest bends the size rules', () => {
  it('treats a lone width as a plain number when the height is fixed', () => {
    const workflow = buildReady(inlineSource('strip', defaultGraph(), { settings: { height: false } }));
    expect(workflow.settings.aspect).toBeUndefined();
    const result = bound(bindWorkflow(workflow, { prompt: 'x', width: 768 }));
    expect(result.applied).toMatchObject({ width: 768 });
    expect(valueAt(result.graph, '5.height')).toBe(512);
    expect(errorsOf(bindWorkflow(workflow, { prompt: 'x', height: 768 }))).toEqual([
      ['height', 'strip does not take a height.'],
    ]);
  });

  it('refuses an aspect once, as not accepted, when the manifest turns aspect off', () => {
    const workflow = buildReady(inlineSource('square', defaultGraph(), { settings: { aspect: false } }));
    expect(errorsOf(bindWorkflow(workflow, { prompt: 'x', aspect: '16:9' }))).toEqual([
      ['aspect', 'square does not take an aspect ratio.'],
    ]);
    expect(bound(bindWorkflow(workflow, { prompt: 'x', width: 640 })).applied).toEqual(
      expect.not.objectContaining({ aspect: expect.anything() }),
    );
  });
});

describe('binding a workflow with a default input image', () => {
  it('uses the manifest image unless the member attaches one', () => {
    const graph = defaultGraph();
    graph['10'] = node('LoadImage', { image: 'example.png' }, 'Pose');
    const workflow = buildReady(
      inlineSource('pose', graph, { settings: { image: { to: 'Pose.image', default: 'pose.png' } } }),
    );
    expect(workflow.settings.image).toMatchObject({ default: 'pose.png', required: false });
    expect(valueAt(bound(bindWorkflow(workflow, { prompt: 'x' })).graph, '10.image')).toBe('pose.png');
    expect(valueAt(bound(bindWorkflow(workflow, { prompt: 'x', image: { name: 'mine.png' } })).graph, '10.image')).toBe(
      'mine.png',
    );
  });
});
