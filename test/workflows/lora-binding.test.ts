import { describe, expect, it } from 'vitest';
import { bindWorkflow, type BindResult } from '../../src/workflows/bind.js';
import type { ApiGraph } from '../../src/workflows/graph.js';
import { ownLorasOf } from '../../src/workflows/lora-choices.js';
import { applyRefine, parseRefine } from '../../src/sessions/refine.js';
import { buildReady, buildReasons, defaultGraph, inlineSource, node, shippedSource } from './helpers.js';

function graphOf(result: BindResult): ApiGraph {
  if (!result.ok) throw new Error(result.errors.map((error) => error.message).join(' | '));
  return result.graph;
}

function errorsOf(result: BindResult): string[] {
  if (result.ok) throw new Error('binding unexpectedly succeeded');
  return result.errors.map((error) => error.message);
}

/** The default graph with two LoRA loaders chained after the checkpoint: 4 -> 10 -> 11 -> sampler and encoders. */
function chainedGraph() {
  const graph = defaultGraph();
  graph['10'] = node('LoraLoader', {
    model: ['4', 0],
    clip: ['4', 1],
    lora_name: 'house-style.safetensors',
    strength_model: 0.7,
    strength_clip: 0.7,
  });
  graph['11'] = node('LoraLoaderModelOnly', { model: ['10', 0], lora_name: 'light.safetensors', strength_model: 1 });
  graph['3']!.inputs['model'] = ['11', 0];
  graph['6']!.inputs['clip'] = ['10', 1];
  graph['7']!.inputs['clip'] = ['10', 1];
  return graph;
}

describe('LoRAs added where the manifest says', () => {
  const txt2img = buildReady(shippedSource('txt2img'));

  it('runs the graph untouched when no LoRA is named', () => {
    const graph = graphOf(bindWorkflow(txt2img, { prompt: 'a fox' }));
    expect(Object.keys(graph).sort()).toEqual(Object.keys(txt2img.graph).sort());
    expect(graph['3']?.inputs['model']).toEqual(['4', 0]);
  });

  it('chains one LoraLoader per LoRA between the checkpoint and everything that read it', () => {
    const graph = graphOf(
      bindWorkflow(txt2img, {
        prompt: 'a fox',
        loras: [{ name: 'detail.safetensors', weight: 0.8 }, { name: 'ink.safetensors' }],
      }),
    );
    expect(graph['10']).toEqual({
      class_type: 'LoraLoader',
      inputs: {
        model: ['4', 0],
        clip: ['4', 1],
        lora_name: 'detail.safetensors',
        strength_model: 0.8,
        strength_clip: 0.8,
      },
      _meta: { title: 'LoRA 1 (comfycord)' },
    });
    expect(graph['11']?.inputs).toMatchObject({ model: ['10', 0], clip: ['10', 1], lora_name: 'ink.safetensors' });
    expect(graph['11']?.inputs['strength_model']).toBe(1);
    expect(graph['3']?.inputs['model']).toEqual(['11', 0]);
    expect(graph['6']?.inputs['clip']).toEqual(['11', 1]);
    expect(graph['7']?.inputs['clip']).toEqual(['11', 1]);
    // The VAE still comes straight from the checkpoint.
    expect(graph['8']?.inputs['vae']).toEqual(['4', 2]);
  });

  it('uses LoraLoaderModelOnly when the manifest names no CLIP output', () => {
    const workflow = buildReady(
      inlineSource('flux', defaultGraph(), { settings: { lora: { insert: { model: ['Load Checkpoint', 0] } } } }),
    );
    const graph = graphOf(bindWorkflow(workflow, { prompt: 'x', loras: [{ name: 'a.safetensors', weight: -1 }] }));
    expect(graph['10']).toMatchObject({
      class_type: 'LoraLoaderModelOnly',
      inputs: { model: ['4', 0], lora_name: 'a.safetensors', strength_model: -1 },
    });
    expect(graph['3']?.inputs['model']).toEqual(['10', 0]);
    expect(graph['6']?.inputs['clip']).toEqual(['4', 1]);
  });

  it('refuses a weight outside the range, too many LoRAs, and one the server lacks, each in a sentence', () => {
    expect(errorsOf(bindWorkflow(txt2img, { prompt: 'x', loras: [{ name: 'a', weight: 5 }] }))).toEqual([
      'The weight 5 of the LoRA a is outside -2 to 2; try one such as 0.8.',
    ]);
    const four = ['a', 'b', 'c', 'd'].map((name) => ({ name }));
    expect(errorsOf(bindWorkflow(txt2img, { prompt: 'x', loras: four }))).toEqual(['txt2img takes at most 3 LoRAs.']);
    expect(
      errorsOf(bindWorkflow(txt2img, { prompt: 'x', loras: [{ name: 'a' }] }, { models: { loras: ['b'] } })),
    ).toEqual(['The LoRA a is not on this server; it has b.']);
  });

  it('refuses a manifest whose insert point nothing reads, or whose weight range is upside down', () => {
    expect(
      buildReasons(
        inlineSource('bad', defaultGraph(), {
          settings: { lora: { insert: { model: ['4', 5] }, weight: { min: 1, max: 0 } } },
        }),
      ),
    ).toEqual([
      'bad.manifest.json: settings.lora.weight: min 1 is above max 0.',
      'bad.manifest.json: settings.lora.weight: the default 1 is outside 1 to 0.',
      'bad.manifest.json: settings.lora.insert.model: nothing in the graph reads output 5 of node 4 "Load Checkpoint" (CheckpointLoaderSimple).',
    ]);
  });
});

describe('LoRAs filling the loaders a graph already chains', () => {
  const workflow = buildReady(inlineSource('chained', chainedGraph()));

  it('infers the chain in order from the checkpoint outwards', () => {
    expect(workflow.loras).toMatchObject({ mode: 'slots', slots: ['10', '11'] });
    expect(workflow.settings.lora).toMatchObject({ most: 2, min: -2, max: 2 });
  });

  it("keeps the graph's own LoRAs when none is named", () => {
    expect(graphOf(bindWorkflow(workflow, { prompt: 'x' }))['10']?.inputs['lora_name']).toBe('house-style.safetensors');
  });

  it('fills the loaders in order and takes the ones left over out of the graph', () => {
    const graph = graphOf(bindWorkflow(workflow, { prompt: 'x', loras: [{ name: 'mine.safetensors', weight: 0.4 }] }));
    expect(graph['10']?.inputs).toMatchObject({
      lora_name: 'mine.safetensors',
      strength_model: 0.4,
      strength_clip: 0.4,
    });
    expect(graph['11']).toBeUndefined();
    expect(graph['3']?.inputs['model']).toEqual(['10', 0]);
    expect(graph['6']?.inputs['clip']).toEqual(['10', 1]);
  });

  it('takes every loader out for an empty list (a refine that took each LoRA out)', () => {
    const graph = graphOf(bindWorkflow(workflow, { prompt: 'x', loras: [] }));
    expect(graph['10']).toBeUndefined();
    expect(graph['11']).toBeUndefined();
    expect(graph['3']?.inputs['model']).toEqual(['4', 0]);
    expect(graph['6']?.inputs['clip']).toEqual(['4', 1]);
  });

  it('names the LoRAs the graph runs by itself, with their weights, for a refine to add to', () => {
    expect(ownLorasOf(workflow)).toEqual([
      { name: 'house-style.safetensors', weight: 0.7 },
      { name: 'light.safetensors', weight: 1 },
    ]);
    expect(ownLorasOf(buildReady(shippedSource('txt2img')))).toEqual([]);
  });

  it('keeps the clip strength the graph gives its own LoRA when a refine changes only another one', () => {
    const graph = chainedGraph();
    graph['10']!.inputs['strength_clip'] = 0.3;
    const ownClip = buildReady(inlineSource('own-clip', graph));
    const picture = { prompt: 'a fox', workflow: 'own-clip' };
    const refined = (text: string) => {
      const parsed = parseRefine(text, { hasImage: false, ignorePrefix: '//' });
      if (parsed.kind === 'error' || parsed.kind === 'ignore') throw new Error(`not a refine: ${text}`);
      return graphOf(bindWorkflow(ownClip, applyRefine(picture, parsed, ownLorasOf(ownClip))));
    };
    expect(refined('--lora light.safetensors:0.5')['10']?.inputs).toMatchObject({
      lora_name: 'house-style.safetensors',
      strength_model: 0.7,
      strength_clip: 0.3,
    });
    // The member changed that LoRA's weight: both strengths follow it, as for any LoRA a member names.
    expect(refined('--lora house-style.safetensors:0.9')['10']?.inputs).toMatchObject({
      strength_model: 0.9,
      strength_clip: 0.9,
    });
  });

  it('notes loaders that do not form one chain instead of guessing', () => {
    const graph = chainedGraph();
    graph['11']!.inputs['model'] = ['4', 0];
    const branched = buildReady(inlineSource('branched', graph));
    expect(branched.loras).toBeUndefined();
    expect(branched.notes.join(' ')).toContain('do not form one chain');
  });
});
