import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOverrides, parseOverride, type InputOverride } from '../../src/cli/generate/overrides.js';
import type { ApiGraph } from '../../src/workflows/graph.js';
import { parseObjectInfo, type ObjectInfo } from '../../src/workflows/object-info.js';
import { SHIPPED_DIR } from './helpers.js';

const txt2img = JSON.parse(readFileSync(path.join(SHIPPED_DIR, 'txt2img.json'), 'utf8')) as ApiGraph;

function override(text: string): InputOverride {
  const parsed = parseOverride(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.override;
}

function applied(graph: ApiGraph, ...texts: string[]): ApiGraph {
  const result = applyOverrides(graph, texts.map(override));
  if (!result.ok) throw new Error(result.message);
  return result.graph;
}

function refusal(graph: ApiGraph, text: string, objectInfo?: ObjectInfo): string {
  const result = applyOverrides(graph, [override(text)], objectInfo);
  if (result.ok) throw new Error(`expected ${text} to be refused`);
  return result.message;
}

describe('parseOverride', () => {
  it('splits the node at the last dot, so a title may contain dots', () => {
    expect(override('SD 1.5 Loader.ckpt_name=x')).toMatchObject({ node: 'SD 1.5 Loader', input: 'ckpt_name' });
  });

  it('parses numbers, booleans, links and quoted strings as JSON and leaves the rest as text', () => {
    expect(override('3.cfg=6.5').value).toBe(6.5);
    expect(override('9.flag=true').value).toBe(true);
    expect(override('3.model=["4",0]').value).toEqual(['4', 0]);
    expect(override('6.text="42"').value).toBe('42');
    expect(override('6.text=a fox, 4k').value).toBe('a fox, 4k');
    expect(override('6.text=').value).toBe('');
  });
});

describe('applyOverrides', () => {
  it('sets an input of a node named by its id, on a copy of the graph', () => {
    const graph = applied(txt2img, '3.steps=7', '3.sampler_name=dpmpp_2m');
    expect(graph['3']!.inputs).toMatchObject({ steps: 7, sampler_name: 'dpmpp_2m' });
    expect(txt2img['3']!.inputs['steps']).toBe(25);
  });

  it('finds a node by its title, exactly or ignoring case', () => {
    expect(applied(txt2img, 'Empty Latent Image.batch_size=3')['5']!.inputs['batch_size']).toBe(3);
    expect(applied(txt2img, 'load checkpoint.ckpt_name=other.safetensors')['4']!.inputs['ckpt_name']).toBe(
      'other.safetensors',
    );
  });

  it('prefers an id over a title that happens to be the same text', () => {
    const graph = structuredClone(txt2img);
    graph['7']!._meta = { title: '3' };
    expect(applied(graph, '3.steps=2')['3']!.inputs['steps']).toBe(2);
  });

  it('refuses a node the graph does not have, listing the nodes it has', () => {
    expect(refusal(txt2img, 'Upscaler.scale_by=2')).toBe(
      '--set Upscaler.scale_by=2: the workflow has no node with the id or title "Upscaler"; it has 3 (KSampler), ' +
        '4 "Load Checkpoint" (CheckpointLoaderSimple), 5 "Empty Latent Image" (EmptyLatentImage), ' +
        '6 "Positive Prompt" (CLIPTextEncode), 7 "Negative Prompt" (CLIPTextEncode), 8 "VAE Decode" (VAEDecode), ' +
        '9 "Save Image" (SaveImage).',
    );
  });

  it('refuses a title shared by several nodes and asks for the id', () => {
    const graph = structuredClone(txt2img);
    graph['7']!._meta = { title: 'Positive Prompt' };
    expect(refusal(graph, 'Positive Prompt.text=x')).toBe(
      '--set Positive Prompt.text=x: nodes 6 and 7 are both titled "Positive Prompt"; name the node by its id instead.',
    );
  });

  it('refuses an input the node does not have, listing the ones it has', () => {
    expect(refusal(txt2img, 'KSampler.bogus=1')).toBe(
      '--set KSampler.bogus=1: node 3 (KSampler) has no input "bogus"; it has seed, steps, cfg, sampler_name, ' +
        'scheduler, denoise, model, positive, negative, latent_image.',
    );
  });

  it('accepts an input missing from the graph when the server’s object_info says the node takes it', () => {
    const reading = parseObjectInfo({
      SaveImage: { input: { required: { images: ['IMAGE'] }, optional: { compress_level: ['INT', {}] } } },
    });
    const objectInfo = reading.ok ? reading.info : undefined;
    const result = applyOverrides(txt2img, [override('Save Image.compress_level=9')], objectInfo);
    expect(result.ok && result.graph['9']!.inputs['compress_level']).toBe(9);
    expect(refusal(txt2img, 'Save Image.quality=9', objectInfo)).toMatch(/has no input "quality"/);
  });

  it('returns the graph unchanged when there is nothing to override', () => {
    const result = applyOverrides(txt2img, []);
    expect(result).toEqual({ ok: true, graph: txt2img, targets: [] });
  });
});
