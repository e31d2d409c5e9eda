/**
 * Shared helpers for the workflow tests: the shipped workflows and the seed's, read from disk, and small graphs
 * written inline.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkflow, type WorkflowSource } from '../../src/workflows/build-workflow.js';
import type { Workflow } from '../../src/workflows/workflow.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository's `workflows/` folder. */
export const SHIPPED_DIR = path.resolve(here, '../../workflows');

/** The seed demo's workflow (an SD1.5 default graph, API format, no manifest). */
export const SEED_WORKFLOW = path.resolve(here, '../fixtures/seed/simple_workflow.json');

export const SHIPPED_NAMES = ['animated', 'img2img', 'sdxl', 'txt2img', 'upscale', 'upscale-basic'] as const;

/** A shipped workflow's sources, with or without its manifest. */
export function shippedSource(name: string, withManifest = true): WorkflowSource {
  const graphText = readFileSync(path.join(SHIPPED_DIR, `${name}.json`), 'utf8');
  if (!withManifest) return { name, file: `${name}.json`, graphText };
  const manifestFile = `${name}.manifest.json`;
  const manifestText = readFileSync(path.join(SHIPPED_DIR, manifestFile), 'utf8');
  return { name, file: `${name}.json`, graphText, manifestFile, manifestText };
}

/** The seed workflow's sources. */
export function seedSource(): WorkflowSource {
  return { name: 'simple', file: 'simple_workflow.json', graphText: readFileSync(SEED_WORKFLOW, 'utf8') };
}

/** Sources for an inline graph (and manifest). */
export function inlineSource(name: string, graph: unknown, manifest?: unknown): WorkflowSource {
  const base = { name, file: `${name}.json`, graphText: JSON.stringify(graph) };
  return manifest === undefined
    ? base
    : { ...base, manifestFile: `${name}.manifest.json`, manifestText: JSON.stringify(manifest) };
}

/** Builds a workflow that must be ready; fails the test with the reasons otherwise. */
export function buildReady(source: WorkflowSource): Workflow {
  const result = buildWorkflow(source);
  if (!result.ok) throw new Error(`${source.file} is disabled: ${result.reasons.join(' | ')}`);
  return result.workflow;
}

/** The reasons a workflow is disabled; fails the test if it built. */
export function buildReasons(source: WorkflowSource): readonly string[] {
  const result = buildWorkflow(source);
  if (result.ok) throw new Error(`${source.file} unexpectedly built`);
  return result.reasons;
}

/** A node as a test writes it: API format, mutable (a type, not an interface, so it fits ApiGraph's index). */
export type TestNode = {
  inputs: Record<string, unknown>;
  class_type: string;
  _meta?: { title: string };
};

/** A graph as a test writes it. */
export type TestGraph = Record<string, TestNode>;

/** A node in API format. */
export function node(classType: string, inputs: Record<string, unknown>, title?: string): TestNode {
  return { inputs, class_type: classType, ...(title === undefined ? {} : { _meta: { title } }) };
}

/** A shipped workflow's graph, parsed, to vary in a test. */
export function shippedGraph(name: string): TestGraph {
  return JSON.parse(shippedSource(name, false).graphText) as TestGraph;
}

/** The SD1.5 default graph's nodes (like the seed's), to vary in a test. */
export function defaultGraph(): TestGraph {
  return {
    '3': node('KSampler', {
      seed: 1,
      steps: 20,
      cfg: 8,
      sampler_name: 'euler',
      scheduler: 'normal',
      denoise: 1,
      model: ['4', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    }),
    '4': node('CheckpointLoaderSimple', { ckpt_name: 'model.safetensors' }, 'Load Checkpoint'),
    '5': node('EmptyLatentImage', { width: 512, height: 512, batch_size: 1 }, 'Empty Latent Image'),
    '6': node('CLIPTextEncode', { text: 'a cat', clip: ['4', 1] }, 'Positive'),
    '7': node('CLIPTextEncode', { text: 'ugly', clip: ['4', 1] }, 'Negative'),
    '8': node('VAEDecode', { samples: ['3', 0], vae: ['4', 2] }),
    '9': node('SaveImage', { filename_prefix: 'ComfyUI', images: ['8', 0] }, 'Save Image'),
  };
}
