/**
 * Turns one workflow file (and its manifest, if any) into a `Workflow`, or into the reasons it cannot be used.
 * Pure: the loader reads the files, this decides.
 */
import { type ApiGraph, nodeTitle } from './graph.js';
import { inferBindings, type InferredBindings } from './inference.js';
import { type Manifest, workflowNameSchema } from './manifest.js';
import { producesOf } from './output-nodes.js';
import { parseGraphText, parseManifestText } from './parse-sources.js';
import { resolveNodeRef } from './resolve-refs.js';
import { buildLoraBinding } from './lora-binding.js';
import { buildSettings, loraSpec } from './setting-specs.js';
import type { OutputNode, Workflow } from './workflow.js';

/** The text of one workflow and its manifest, as read from disk (or written by a test). */
export interface WorkflowSource {
  /** The name from the file name (`txt2img` for `txt2img.json`); a manifest may rename it. */
  readonly name: string;
  readonly file: string;
  readonly graphText: string;
  readonly manifestFile?: string;
  readonly manifestText?: string;
}

/** A workflow ready to use, or the reasons it is disabled. */
export type BuildResult =
  | { readonly ok: true; readonly workflow: Workflow }
  | { readonly ok: false; readonly name: string; readonly reasons: readonly string[] };

/** Builds a workflow from its sources, inferring whatever the manifest does not say. */
export function buildWorkflow(source: WorkflowSource): BuildResult {
  const graph = parseGraphText(source.file, source.graphText);
  const manifestFile = source.manifestFile ?? `${source.name}.manifest.json`;
  const manifest = source.manifestText === undefined ? undefined : parseManifestText(manifestFile, source.manifestText);
  const name = (manifest?.ok ? manifest.value.name : undefined) ?? source.name;
  const reasons = [...(graph.ok ? [] : graph.reasons), ...(manifest && !manifest.ok ? manifest.reasons : [])];
  if (!workflowNameSchema.safeParse(name).success) {
    reasons.push(
      `${source.file}: the name "${name}" cannot be typed after --wf; rename the file or give the manifest a "name" (letters, digits, "-", "_", ".").`,
    );
  }
  if (!graph.ok || (manifest && !manifest.ok) || reasons.length > 0) return { ok: false, name, reasons };
  return assemble(source, name, graph.value, manifest?.value, manifestFile);
}

function assemble(
  source: WorkflowSource,
  name: string,
  graph: ApiGraph,
  manifest: Manifest | undefined,
  manifestFile: string,
): BuildResult {
  const inferred = inferBindings(graph);
  const built = buildSettings(graph, manifest, manifestFile, inferred);
  const outputs = outputsFor(graph, manifest, { manifestFile }, inferred);
  const loras = buildLoraBinding(graph, manifest, manifestFile);
  const reasons = [...built.reasons, ...outputs.reasons, ...loras.reasons];
  if (reasons.length > 0) return { ok: false, name, reasons };
  const settings = loras.binding ? { ...built.settings, lora: loraSpec(loras.binding, manifest) } : built.settings;
  const kind = manifest?.kind ?? inferred.kind;
  const workflow: Workflow = {
    name,
    description: manifest?.description ?? describeKind(kind),
    kind,
    file: source.file,
    graph: deepFreeze(graph),
    settings,
    ...(loras.binding ? { loras: loras.binding } : {}),
    ...(built.resolution ? { resolution: built.resolution } : {}),
    outputs: outputs.nodes,
    ...(manifest?.fallback ? { fallback: manifest.fallback } : {}),
    nsfw: manifest?.nsfw === true,
    source: manifest ? 'manifest' : 'inferred',
    notes: [
      ...notesFor(manifest, inferred, source.file),
      ...(loras.note && manifest?.settings?.lora === undefined ? [`${source.file}: ${loras.note}`] : []),
    ],
  };
  return { ok: true, workflow };
}

function outputsFor(
  graph: ApiGraph,
  manifest: Manifest | undefined,
  { manifestFile }: { manifestFile: string },
  inferred: InferredBindings,
): { nodes: OutputNode[]; reasons: string[] } {
  const reasons: string[] = [];
  const ids: string[] = [];
  for (const ref of manifest?.outputs ?? []) {
    const resolved = resolveNodeRef(graph, ref);
    if (resolved.ok) ids.push(resolved.value);
    else reasons.push(`${manifestFile}: outputs "${ref}": ${resolved.message}.`);
  }
  if (!manifest?.outputs) ids.push(...inferred.outputs);
  const nodes = ids.map((nodeId) => {
    const node = graph[nodeId]!;
    const title = nodeTitle(node);
    const produces = producesOf(graph, nodeId);
    return { nodeId, classType: node.class_type, produces, ...(title === undefined ? {} : { title }) };
  });
  return { nodes, reasons };
}

// A manifest entry for a setting settles that setting's ambiguity, so its note is no longer worth reading.
function notesFor(manifest: Manifest | undefined, inferred: InferredBindings, file: string): string[] {
  return inferred.notes
    .filter((note) =>
      note.about === 'outputs' ? manifest?.outputs === undefined : manifest?.settings?.[note.about] === undefined,
    )
    .map((note) => `${file}: ${note.message}`);
}

function describeKind(kind: Workflow['kind']): string {
  const descriptions: Record<Workflow['kind'], string> = {
    'text-to-image': 'Text to image',
    'image-to-image': 'Image to image',
    upscale: 'Upscale an image',
    other: 'Custom workflow',
  };
  return descriptions[kind];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
