import { describe, expect, it } from 'vitest';
import { formatTarget } from '../../src/workflows/graph.js';
import { acceptedSettings, describeSetting } from '../../src/workflows/workflow.js';
import { buildReady, buildReasons, defaultGraph, inlineSource, SHIPPED_NAMES, shippedSource } from './helpers.js';

const UI_EXPORT = {
  last_node_id: 9,
  last_link_id: 9,
  nodes: [{ id: 3, type: 'KSampler', widgets_values: [1, 'randomize', 20, 8, 'euler', 'normal', 1] }],
  links: [[1, 4, 0, 3, 0, 'MODEL']],
  groups: [],
  version: 0.4,
};

describe('building a workflow from its files', () => {
  it('builds every shipped workflow from its manifest with no notes', () => {
    for (const name of SHIPPED_NAMES) {
      const workflow = buildReady(shippedSource(name));
      expect(workflow.source, name).toBe('manifest');
      expect(workflow.notes, name).toEqual([]);
      expect(workflow.description.length, name).toBeGreaterThan(10);
    }
  });

  it('reads the txt2img manifest: title addressing, defaults, limits and base resolution', () => {
    const workflow = buildReady(shippedSource('txt2img'));
    expect(workflow.kind).toBe('text-to-image');
    expect(workflow.resolution).toEqual({ base: 512, multiple: 8 });
    expect(acceptedSettings(workflow).map((spec) => spec.name)).toEqual([
      'prompt',
      'negative',
      'aspect',
      'width',
      'height',
      'count',
      'seed',
      'steps',
      'cfg',
      'checkpoint',
      'lora',
    ]);
    expect(workflow.loras).toEqual({
      mode: 'insert',
      model: ['4', 0],
      clip: ['4', 1],
      max: 3,
      weight: { min: -2, max: 2, default: 1 },
    });
    expect(workflow.settings.prompt?.targets.map(formatTarget)).toEqual(['6.text']);
    expect(workflow.settings.steps).toMatchObject({ default: 25, min: 1, max: 60 });
    expect(workflow.settings.negative?.default).toBe('text, watermark, blurry, lowres');
    expect(workflow.settings.checkpoint?.default).toBe('v1-5-pruned-emaonly.safetensors');
    expect(workflow.outputs).toEqual([
      { nodeId: '9', classType: 'SaveImage', title: 'Save Image', produces: 'images' },
    ]);
  });

  it('computes default sizes from the manifest aspect and base resolution', () => {
    const graph = defaultGraph();
    const workflow = buildReady(
      inlineSource('wide', graph, { resolution: { base: 1024 }, settings: { aspect: { default: '16:9' } } }),
    );
    expect(workflow.resolution).toEqual({ base: 1024, multiple: 64 });
    expect(workflow.settings.width?.default).toBe(1344);
    expect(workflow.settings.height?.default).toBe(768);
    expect(workflow.settings.aspect?.default).toBe('16:9');
  });

  it('keeps the upscale fallback and the sdxl aspect choices', () => {
    expect(buildReady(shippedSource('upscale')).fallback).toBe('upscale-basic');
    expect(buildReady(shippedSource('sdxl')).settings.aspect?.choices).toEqual([
      '1:1',
      '3:2',
      '2:3',
      '4:3',
      '3:4',
      '16:9',
      '9:16',
    ]);
  });

  it('lets a manifest rename the workflow and describe it', () => {
    const workflow = buildReady(inlineSource('file-name', defaultGraph(), { name: 'portrait', description: 'Faces' }));
    expect(workflow.name).toBe('portrait');
    expect(workflow.description).toBe('Faces');
  });

  it('marks a workflow adult only when its manifest says "nsfw": true', () => {
    expect(buildReady(inlineSource('plain', defaultGraph())).nsfw).toBe(false);
    expect(buildReady(inlineSource('adult', defaultGraph(), { nsfw: true })).nsfw).toBe(true);
    expect(buildReasons(inlineSource('odd', defaultGraph(), { nsfw: 'yes' })).join(' ')).toMatch(/nsfw/);
  });

  it('refuses a UI-format export with a sentence that says how to export in API format', () => {
    const [reason, ...rest] = buildReasons(inlineSource('ui', UI_EXPORT));
    expect(rest).toEqual([]);
    expect(reason).toContain('ui.json is a ComfyUI UI-format export');
    expect(reason).toContain('"Export (API)"');
    expect(reason).toContain('Dev mode');
  });

  it('disables a file that is not JSON, naming the file', () => {
    const reasons = buildReasons({ name: 'broken', file: 'broken.json', graphText: '{"3": {' });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^broken\.json is not valid JSON \(/);
  });

  it('disables JSON that is not a graph and says what an API export looks like', () => {
    const reasons = buildReasons(inlineSource('list', { '3': { inputs: {} } }));
    expect(reasons[0]).toBe('list.json: 3.class_type is missing');
    expect(reasons[1]).toContain('does not look like a ComfyUI API-format graph');
  });

  it('disables a graph with a link to a node it does not have', () => {
    const graph = defaultGraph();
    graph['9']!.inputs = { filename_prefix: 'x', images: ['99', 0] };
    expect(buildReasons(inlineSource('dangling', graph))).toEqual([
      'dangling.json: node 9 "Save Image" (SaveImage) input images is linked to node 99, which does not exist.',
    ]);
  });

  it('renders manifest schema errors as sentences naming the file and the field', () => {
    const reasons = buildReasons(
      inlineSource('bad', defaultGraph(), {
        kind: 'video',
        resolution: { base: 'large' },
        settings: { steps: { max: 'sixty' }, sampler: 'x', seed: { default: 5 }, count: { max: 9 } },
        outputs: [],
      }),
    );
    expect(reasons).toEqual([
      'bad.manifest.json: kind must be "text-to-image" or "image-to-image" or "upscale" or "other"',
      'bad.manifest.json: resolution.base must be a number, not the text "large"',
      'bad.manifest.json: settings.seed.default is not allowed: the seed is fresh for every job unless a member sets one',
      'bad.manifest.json: settings.steps.max must be a number, not the text "sixty"',
      'bad.manifest.json: settings.count.max must be at most 4',
      'bad.manifest.json: settings has unknown field "sampler"',
      'bad.manifest.json: outputs must have at least 1 entry',
    ]);
  });

  it('names a typo in a setting entry instead of ignoring it', () => {
    expect(buildReasons(inlineSource('typo', defaultGraph(), { settings: { steps: { defualt: 30 } } }))).toEqual([
      'typo.manifest.json: settings.steps has unknown field "defualt"',
    ]);
  });

  it('disables a manifest that is not JSON', () => {
    const source = { ...inlineSource('x', defaultGraph()), manifestFile: 'x.manifest.json', manifestText: '{,}' };
    expect(buildReasons(source)[0]).toMatch(/^x\.manifest\.json is not valid JSON/);
  });

  it('says which node reference did not resolve and what the graph has', () => {
    const reasons = buildReasons(
      inlineSource('refs', defaultGraph(), {
        settings: { prompt: 'Prompt.text', steps: '3.step', cfg: '3.positive' },
        outputs: ['Saver'],
      }),
    );
    expect(reasons).toEqual([
      'refs.manifest.json: settings.prompt.to "Prompt.text": no node has the id or title "Prompt" (titles: "Load Checkpoint", "Empty Latent Image", "Positive", "Negative", "Save Image").',
      'refs.manifest.json: settings.steps.to "3.step": node 3 (KSampler) has no input "step" (it has seed, steps, cfg, sampler_name, scheduler, denoise, model, positive, negative, latent_image).',
      'refs.manifest.json: settings.cfg.to "3.positive": node 3 (KSampler) input "positive" is linked from node 6, so it holds no value to set; bind an input of node 6 instead.',
      'refs.manifest.json: outputs "Saver": no node has the id or title "Saver" (titles: "Load Checkpoint", "Empty Latent Image", "Positive", "Negative", "Save Image").',
    ]);
  });

  it('refuses a title shared by two nodes and asks for the id', () => {
    const graph = defaultGraph();
    graph['7']!._meta = { title: 'Positive' };
    expect(buildReasons(inlineSource('twins', graph, { settings: { prompt: 'Positive.text' } }))).toEqual([
      'twins.manifest.json: settings.prompt.to "Positive.text": the title "Positive" is on nodes 6, 7; use the node id instead.',
    ]);
  });

  it('refuses a default outside the manifest limits or choices', () => {
    const reasons = buildReasons(
      inlineSource('limits', defaultGraph(), {
        settings: { steps: { default: 80, max: 60 }, cfg: { min: 9, max: 3 }, checkpoint: { choices: ['a.ckpt'] } },
      }),
    );
    expect(reasons).toEqual([
      'limits.manifest.json: settings.steps: the default 80 is outside 1 to 60.',
      'limits.manifest.json: settings.cfg: min 9 is above max 3.',
      'limits.manifest.json: settings.cfg: the default 8 is outside 9 to 3.',
      'limits.manifest.json: settings.checkpoint: the default "model.safetensors" is not one of its choices.',
    ]);
  });

  it('asks for a target when a manifest entry has none and none can be inferred', () => {
    expect(buildReasons(inlineSource('steps', defaultGraph(), { settings: { denoise: { default: 0.5 } } }))).toEqual([
      'steps.manifest.json: settings.denoise has no "to" and no input for it could be inferred; add "to": "<node id or title>.<input>".',
    ]);
    expect(buildReasons(inlineSource('lora', defaultGraph(), { settings: { lora: { choices: ['x'] } } }))).toEqual([
      'lora.manifest.json: settings.lora has no "to" and the graph has no LoRA loader; list loaders in "to", or say where to add them with "insert": { "model": ["<node>", 0], "clip": ["<node>", 1] }.',
    ]);
  });

  it('leaves an output node it does not know to each server, and says a manifest can name it', () => {
    const graph = defaultGraph();
    graph['9'] = { inputs: { images: ['8', 0] }, class_type: 'Image Save (WAS)' };
    const workflow = buildReady(inlineSource('custom-save', graph));
    expect(workflow.outputs).toEqual([]);
    expect(workflow.notes.join(' ')).toContain('comfycord knows none of its output nodes, so each server decides');
    expect(buildReady(inlineSource('custom-save', graph, { outputs: ['9'] })).outputs[0]).toEqual({
      nodeId: '9',
      classType: 'Image Save (WAS)',
      produces: 'images',
    });
  });

  it('refuses a file name that cannot be typed after --wf unless the manifest names it', () => {
    expect(buildReasons(inlineSource('my flow', defaultGraph()))[0]).toContain('the name "my flow" cannot be typed');
    expect(buildReady(inlineSource('my flow', defaultGraph(), { name: 'my-flow' })).name).toBe('my-flow');
  });

  it('freezes the graph so nobody mutates the loaded workflow', () => {
    const workflow = buildReady(shippedSource('txt2img'));
    expect(() => {
      (workflow.graph['3']!.inputs as Record<string, unknown>)['steps'] = 1;
    }).toThrow(TypeError);
  });
});

describe('describing accepted settings for people', () => {
  it('gives one line per setting with its default, range or choices', () => {
    expect(acceptedSettings(buildReady(shippedSource('sdxl'))).map((spec) => describeSetting(spec))).toEqual([
      'prompt: required',
      'negative: default "blurry, deformed, watermark, text"',
      'aspect: default "1:1", one of 1:1, 3:2, 2:3, 4:3, 3:4, 16:9, 9:16',
      'width: default 1024, 512–2048',
      'height: default 1024, 512–2048',
      'count: default 1, 1–4',
      'seed: random unless set',
      'steps: default 30, 10–60',
      'cfg: default 7, 1–15',
      'model: default "sd_xl_base_1.0.safetensors"',
      'lora: up to 3',
    ]);
    expect(acceptedSettings(buildReady(shippedSource('upscale'))).map((spec) => describeSetting(spec))).toEqual([
      'image: required',
    ]);
  });
});

describe('manifest entries of the wrong form', () => {
  it('says which forms a setting entry may take', () => {
    expect(buildReasons(inlineSource('form', defaultGraph(), { settings: { steps: 5, aspect: '16:9' } }))).toEqual([
      'form.manifest.json: settings.steps must be false, a target such as "3.steps", a list of targets, or an object such as { "to": "3.steps", "max": 60 }',
      'form.manifest.json: settings.aspect must be false or an object',
    ]);
  });

  it('explains a target that does not name a node and an input', () => {
    expect(buildReasons(inlineSource('target', defaultGraph(), { settings: { seed: 'KSampler' } }))).toEqual([
      'target.manifest.json: settings.seed.to must name a node (id or title) and an input, like "3.seed" or "KSampler.seed"',
    ]);
    expect(buildReasons(inlineSource('target', defaultGraph(), { settings: { seed: { to: 3 } } }))).toEqual([
      'target.manifest.json: settings.seed.to must be a string or a list',
    ]);
  });
});

describe('manifest settings that cannot apply', () => {
  it('refuses an aspect for a workflow that takes no width and height', () => {
    expect(
      buildReasons({ ...shippedSource('upscale'), manifestText: '{"settings":{"aspect":{"default":"1:1"}}}' }),
    ).toEqual([
      'upscale.manifest.json: settings.aspect needs both width and height to be bound; bind them or set "aspect": false.',
    ]);
  });
});
